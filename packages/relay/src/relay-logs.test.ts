import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import { MemoryStore } from '@converge/core'
import { websocket } from '@converge/websocket'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { MESH_LINK_UNREACHABLE_AFTER_MS } from './mesh-link-watch.js'
import { createLogger, prettyLine } from './pretty-log.js'
import { Relay } from './relay.js'

/** A pino logger at debug whose lines land in `lines` (parsed). */
const capture = () => {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  return { logger, lines }
}

/** A port nothing listens on (bound, then released). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const waitUntil = async (what: string, condition: () => boolean, timeout = 10_000) => {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const relays: Relay[] = []
afterEach(async () => {
  while (relays.length > 0) await (relays.pop() as Relay).stop()
})

describe('relay logs for people', () => {
  it('the startup line gives the http and ws URLs, the data directory, the auth mode and the peers', async () => {
    const { logger, lines } = capture()
    const relay = await Relay.start({
      host: '127.0.0.1',
      port: 0,
      store: new MemoryStore(),
      logger,
      authSecret: 's'.repeat(32),
    })
    relays.push(relay)
    const banner = lines.find((l) => String(l.msg).startsWith('relay listening'))
    expect(banner).toMatchObject({
      msg: `relay listening on http://127.0.0.1:${relay.port}/ (clients: ws://127.0.0.1:${relay.port})`,
      http: `http://127.0.0.1:${relay.port}/`,
      ws: `ws://127.0.0.1:${relay.port}`,
      data: '(custom store)',
      auth: 'tokens (HS256, --auth-secret / --auth-key)',
      peers: [],
    })
    expect(lines.some((l) => String(l.msg).includes('no --auth-secret'))).toBe(false)
  })

  it('a client connecting and leaving is logged at debug, not at info', async () => {
    const { logger, lines } = capture()
    const relay = await Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger })
    relays.push(relay)
    const client = new (await import('@converge/core')).Replica()
    const peer = client.connect(websocket(relay.url))
    await waitUntil('peer connected', () => lines.some((l) => l.msg === 'peer connected'))
    peer.close()
    await waitUntil('peer disconnected', () => lines.some((l) => l.msg === 'peer disconnected'))
    for (const msg of ['peer connected', 'peer disconnected']) {
      expect(lines.find((l) => l.msg === msg)?.level, msg).toBe(20)
    }
    await client.destroy()
  })

  it('a mesh peer that nothing answers: one warning with the backoff and no stack, then /readyz degraded (200) and converge_mesh_link_up 0', async () => {
    const { logger, lines } = capture()
    const url = `ws://127.0.0.1:${await closedPort()}`
    const relay = await Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger, peers: [url] })
    relays.push(relay)
    const http = `http://127.0.0.1:${relay.port}`
    expect(await (await fetch(`${http}/readyz`)).json()).toEqual({ status: 'ready' })
    await waitUntil(
      'the warning',
      () => lines.some((l) => l.level === 40 && String(l.msg).startsWith('cannot reach mesh peer')),
      MESH_LINK_UNREACHABLE_AFTER_MS + 10_000,
    )
    const failures = lines.filter((l) => l.msg === 'mesh dial failed, retrying')
    expect(failures.length).toBeGreaterThanOrEqual(3)
    expect(failures.every((l) => l.level === 20)).toBe(true)
    const warnings = lines.filter((l) => (l.level as number) >= 40 && l.peer === url)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ backoff: expect.stringContaining('jitter') })
    expect(JSON.stringify(lines)).not.toMatch(/\bat .*\.js:\d+/)
    const ready = await fetch(`${http}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      reasons: [expect.stringMatching(new RegExp(`^mesh peer ${url} unreachable for \\d+ s`))],
    })
    const metrics = await (await fetch(`${http}/metrics`)).text()
    expect(metrics).toContain(`converge_mesh_link_up{peer="${url}"} 0`)
    expect(Number(new RegExp(`converge_mesh_dial_failures_total\\{peer="${url}"\\} (\\d+)`).exec(metrics)?.[1])).toBe(
      failures.length,
    )
  }, 30_000)

  it('a mesh link that opens sets converge_mesh_link_up to 1 and /readyz stays ready', async () => {
    // An open relay admits a relay-role peer only when told to (a trusted network).
    const b = await Relay.start({
      host: '127.0.0.1',
      port: 0,
      store: new MemoryStore(),
      logger: false,
      allowUnauthenticatedRelays: true,
    })
    relays.push(b)
    const { logger, lines } = capture()
    const a = await Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger, peers: [b.url] })
    relays.push(a)
    await waitUntil('mesh link open', () => lines.some((l) => l.msg === 'mesh link open'))
    const http = `http://127.0.0.1:${a.port}`
    expect(await (await fetch(`${http}/metrics`)).text()).toContain(`converge_mesh_link_up{peer="${b.url}"} 1`)
    expect(await (await fetch(`${http}/readyz`)).json()).toEqual({ status: 'ready' })
  })
})

describe('log formats', () => {
  const sink = (isTTY: boolean) => {
    let text = ''
    const out = new Writable({
      write(chunk, _enc, done) {
        text += chunk
        done()
      },
    }) as unknown as NodeJS.WriteStream
    out.isTTY = isTTY
    return { out, text: () => text }
  }

  it('auto is JSON lines when stdout is not a terminal, pretty when it is', async () => {
    const pipe = sink(false)
    createLogger({ level: 'info', format: 'auto', out: pipe.out }).info({ port: 1 }, 'hello')
    await new Promise((r) => setImmediate(r))
    expect(JSON.parse(pipe.text())).toMatchObject({ msg: 'hello', port: 1, level: 30 })
    const tty = sink(true)
    createLogger({ level: 'info', format: 'auto', out: tty.out }).info({ port: 1 }, 'hello')
    expect(tty.text()).toMatch(/\d\d:\d\d:\d\d.*INFO.*hello.*port=1/)
    const forced = sink(false)
    createLogger({ level: 'info', format: 'pretty', out: forced.out }).warn('careful')
    expect(forced.text()).toMatch(/^\d\d:\d\d:\d\d WARN {2}careful\n$/)
  })

  it('a pretty line shows an error message, and its stack only from level error up', () => {
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' }
    const warn = prettyLine(JSON.stringify({ level: 40, time: 0, msg: 'w', err, peer: 'ws://a b' }), false)
    expect(warn).toMatch(/WARN {2}w {2}error=boom peer="ws:\/\/a b"\n$/)
    const error = prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'e', err }), false)
    expect(error).toContain('    at x (y.js:1:1)')
  })
})
