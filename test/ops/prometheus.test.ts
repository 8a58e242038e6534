import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { freePort, RelayProcess, tempDir } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'

/**
 * The ops files against a real Prometheus (Debian's `prometheus` package): two relays in a
 * mesh under a little load (writes, a malformed frame, a refused upgrade), scraped every
 * second; `promtool check metrics` on their /metrics, `promtool check rules` on the alert
 * rules, every rule loaded and evaluated, and every expression of every dashboard panel
 * answering with data through the HTTP API.
 */
const OPS = fileURLToPath(new URL('../../ops/', import.meta.url))
const DASHBOARD = join(OPS, 'grafana-dashboard.json')
const RULES = join(OPS, 'prometheus-alerts.yml')
const BINARIES = ['/usr/bin/prometheus', '/usr/bin/promtool']
const required = process.env.CONVERGE_REQUIRE_PROMETHEUS === '1'
const missing = BINARIES.filter((b) => !existsSync(b))

const run = (cmd: string, args: string[], stdin?: string) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, out: `${stdout}${stderr}` }),
    )
    if (stdin !== undefined) child.stdin?.end(stdin)
  })

interface Panel {
  title: string
  targets: { expr: string }[]
}

/** A dashboard expression as Grafana sends it: template variables replaced. */
const asQuery = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.+')

const suite = () => {
  const stops: (() => Promise<unknown>)[] = []
  let prometheus: ChildProcess
  let api: string
  let relays: RelayProcess[] = []
  let loadTimer: ReturnType<typeof setInterval> | undefined

  const query = async (expr: string) => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`)
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } }
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`)
    return body.data?.result ?? []
  }

  beforeAll(async () => {
    // A mesh without auth: the relays admit each other's relay role (a test network).
    const mesh = ['--allow-unauthenticated-relays']
    const b = await RelayProcess.start({ extraArgs: mesh })
    const a = await RelayProcess.start({ peers: [b.url], extraArgs: mesh })
    relays = [a, b]
    stops.push(() => Promise.all(relays.map((r) => r.dispose())))

    // Load: a writer on A and a reader on B (so updates cross the mesh link), all the while.
    const writer = new Replica({ store: new MemoryStore() })
    const reader = new Replica({ store: new MemoryStore() })
    writer.connect(websocket(a.url))
    reader.connect(websocket(b.url))
    stops.push(
      () => writer.destroy(),
      () => reader.destroy(),
    )
    const docs = await Promise.all(['ops-a', 'ops-b', 'ops-c'].map((name) => writer.open(name)))
    await Promise.all(['ops-a', 'ops-b', 'ops-c'].map((name) => reader.open(name)))
    let tick = 0
    loadTimer = setInterval(() => {
      for (const doc of docs) doc.getArray('ticks').push([tick++])
    }, 50)
    stops.push(async () => clearInterval(loadTimer))
    // A malformed frame (counted in converge_errors_total) and a refused upgrade (no document in the path).
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${a.url}/ops-a`)
      ws.on('open', () => ws.send(new Uint8Array([7, 1, 2])))
      ws.on('close', () => resolve())
      ws.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${a.url}/`)
      ws.on('error', () => resolve())
      ws.on('close', () => resolve())
    })

    const dir = await tempDir('prometheus')
    stops.push(() => rm(dir, { recursive: true, force: true }))
    const config = join(dir, 'prometheus.yml')
    await writeFile(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(RULES)}]`,
        'scrape_configs:',
        '  - job_name: converge',
        `    static_configs: [{ targets: [${relays.map((r) => `"127.0.0.1:${r.port}"`).join(', ')}] }]`,
      ].join('\n'),
    )
    const port = await freePort()
    api = `http://127.0.0.1:${port}`
    let output = ''
    prometheus = spawn(
      BINARIES[0] as string,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    prometheus.stdout?.on('data', (d) => {
      output += d
    })
    prometheus.stderr?.on('data', (d) => {
      output += d
    })
    stops.push(async () => {
      if (prometheus.exitCode !== null) return
      const exited = new Promise((resolve) => prometheus.once('exit', resolve))
      prometheus.kill('SIGTERM')
      await exited
    })
    await waitFor(
      async () => {
        if (prometheus.exitCode !== null) throw new Error(`prometheus exited with ${prometheus.exitCode}:\n${output}`)
        return (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200
      },
      { timeout: 30_000, what: 'prometheus to be ready' },
    )
    // Enough scrapes of both relays for rate() over 1m: at least 4 samples each.
    await waitFor(
      async () => {
        const result = (await query('count_over_time(up{job="converge"}[1m]) >= 4')) as unknown[]
        return result.length === relays.length
      },
      { timeout: 40_000, interval: 500, what: 'four scrapes of both relays' },
    )
  }, 120_000)

  afterAll(async () => {
    while (stops.length > 0) await (stops.pop() as () => Promise<unknown>)()
  }, 60_000)

  it('promtool check metrics finds nothing to complain about in either relay /metrics', async () => {
    for (const relay of relays) {
      const text = await (await fetch(`${relay.httpUrl}/metrics`)).text()
      expect(text).toContain('converge_mesh_link_up')
      const check = await run(BINARIES[1] as string, ['check', 'metrics'], text)
      expect(check.out, `promtool check metrics on relay ${relay.port}`).toBe('')
      expect(check.code).toBe(0)
    }
  })

  it('promtool check rules accepts the alert rules, and Prometheus loads and evaluates each without error', async () => {
    const check = await run(BINARIES[1] as string, ['check', 'rules', RULES])
    expect(check.code, check.out).toBe(0)
    const ruleCount = Number(/SUCCESS: (\d+) rules found/.exec(check.out)?.[1])
    expect(ruleCount).toBeGreaterThanOrEqual(5)
    await waitFor(
      async () => {
        const res = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { health: string; lastEvaluation: string }[] }[] }
        }
        const rules = res.data.groups.flatMap((g) => g.rules)
        return (
          rules.length === ruleCount && rules.every((r) => r.health === 'ok' && !r.lastEvaluation.startsWith('0001'))
        )
      },
      { timeout: 20_000, interval: 500, what: 'every rule evaluated with health ok' },
    )
  })

  it('every expression of every dashboard panel returns data from the relays under load', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] }
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: asQuery(t.expr) })))
    expect(exprs.length).toBeGreaterThanOrEqual(dashboard.panels.length)
    const empty = new Set(exprs.map((e) => e.expr))
    // Rates need two samples with a change between them: ask again until each has answered.
    await waitFor(
      async () => {
        for (const expr of [...empty]) if ((await query(expr)).length > 0) empty.delete(expr)
        return empty.size === 0
      },
      { timeout: 30_000, interval: 1_000, what: 'data for every panel expression' },
    ).catch((err) => {
      throw new Error(`${err.message}; still empty: ${[...empty].join(' | ')}`)
    })
    // A mesh link that is up, on the relay that dials.
    const up = (await query('converge_mesh_link_up == 1')) as unknown[]
    expect(up).toHaveLength(1)
  })
}

if (missing.length === 0) {
  describe('Prometheus and Grafana files against a real Prometheus', suite)
} else if (required) {
  describe('Prometheus and Grafana files against a real Prometheus', () => {
    it('needs prometheus and promtool (CONVERGE_REQUIRE_PROMETHEUS=1)', () => {
      throw new Error(`missing ${missing.join(', ')}: apt-get install prometheus`)
    })
  })
} else {
  console.log(
    `[ops] SKIPPED the Prometheus test: missing ${missing.join(', ')}. Install Debian's prometheus (apt-get install prometheus) to run it; CI (CONVERGE_REQUIRE_PROMETHEUS=1) requires it.`,
  )
  describe.skip('Prometheus and Grafana files against a real Prometheus', suite)
}
