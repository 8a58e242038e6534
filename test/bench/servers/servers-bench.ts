/**
 * Server benchmark: the converge relay beside @y/websocket-server (y-leveldb) and
 * Hocuspocus (LevelDB), one after another in one run, each server its own process pinned
 * to core 0 and this load generator pinned to core 1. Prints a table per scenario and
 * writes test/bench/results/<out>.json. See test/bench/README.md.
 *
 *   node test/bench/dist/servers/servers-bench.js [--quick] [--scenarios throughput,fan-out,cold-sync,memory]
 *     [--servers converge,y-websocket-server,hocuspocus] [--out servers]
 */
import { parseArgs } from 'node:util'
import { formatOtherLoad, formatOwnLoad } from '../lib/core-load.js'
import { LOAD_CPU, pinSelf } from '../lib/pinning.js'
import {
  advantage,
  type Cell,
  cliArgs,
  commandLine,
  describeMachine,
  kib,
  machineFacts,
  runMain,
  table,
  writeResults,
} from '../lib/report.js'
import { loadTrace } from '../lib/trace.js'
import { type ClientKind, clientKinds } from './clients.js'
import { COLD_SYNC_DEFAULTS, runColdSync } from './cold-sync.js'
import { FAN_OUT_DEFAULTS, runFanOut } from './fan-out.js'
import { MEMORY_DEFAULTS, runMemory } from './memory.js'
import { type ServerName, type ServerTarget, serverTargets } from './targets.js'
import { runThroughput, THROUGHPUT_DEFAULTS } from './throughput.js'

const SCENARIOS = ['throughput', 'fan-out', 'cold-sync', 'memory'] as const
type Scenario = (typeof SCENARIOS)[number]

const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    servers: { type: 'string', default: serverTargets.map((t) => t.name).join(',') },
    out: { type: 'string', default: 'servers' },
    edits: { type: 'string' },
    readers: { type: 'string' },
    docs: { type: 'string' },
    rounds: { type: 'string' },
  },
})

const int = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number.parseInt(v, 10))
const quick = args.quick === true

/** Sizes: the defaults, scaled down by --quick (for development on a busy machine), overridden by flags. */
const options = {
  throughput: {
    ...THROUGHPUT_DEFAULTS,
    edits: int(args.edits, quick ? 1_000 : THROUGHPUT_DEFAULTS.edits),
    warmupEdits: quick ? 200 : THROUGHPUT_DEFAULTS.warmupEdits,
  },
  fanOut: {
    ...FAN_OUT_DEFAULTS,
    readers: int(args.readers, quick ? 10 : FAN_OUT_DEFAULTS.readers),
    updates: quick ? 60 : FAN_OUT_DEFAULTS.updates,
    warmupUpdates: quick ? 10 : FAN_OUT_DEFAULTS.warmupUpdates,
  },
  coldSync: { ...COLD_SYNC_DEFAULTS, rounds: int(args.rounds, quick ? 2 : COLD_SYNC_DEFAULTS.rounds) },
  memory: {
    ...MEMORY_DEFAULTS,
    docs: int(args.docs, quick ? 50 : MEMORY_DEFAULTS.docs),
    settleMs: quick ? 500 : MEMORY_DEFAULTS.settleMs,
  },
}

const scenarios = (args.scenarios as string).split(',').filter(Boolean) as Scenario[]
for (const s of scenarios)
  if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (${SCENARIOS.join(', ')})`)
const targets = (args.servers as string).split(',').map((name) => {
  const t = serverTargets.find((x) => x.name === name)
  if (t === undefined) throw new Error(`unknown server ${name} (${serverTargets.map((x) => x.name).join(', ')})`)
  return t
})

interface Config {
  target: ServerTarget
  client: ClientKind
  multiplexed: boolean
}

const configs = (withMultiplexed: boolean): Config[] =>
  targets.flatMap((target) =>
    target.clients.flatMap((name) => {
      const client = clientKinds[name]
      const one = [{ target, client, multiplexed: false }]
      return withMultiplexed && client.openMany !== undefined ? [...one, { target, client, multiplexed: true }] : one
    }),
  )

const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`)

interface Row<R> {
  server: ServerName
  client: string
  multiplexed: boolean
  result?: R
  error?: string
}

const run = async <R>(scenario: string, list: Config[], fn: (c: Config) => Promise<R>): Promise<Row<R>[]> => {
  const rows: Row<R>[] = []
  for (const c of list) {
    const what = `${scenario}: ${c.target.label} + ${c.client.label}${c.multiplexed ? ' (one connection)' : ''}`
    progress(`${what} …`)
    const started = Date.now()
    try {
      const result = await fn(c)
      rows.push({ server: c.target.name, client: c.client.name, multiplexed: c.multiplexed, result })
      progress(`${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      rows.push({ server: c.target.name, client: c.client.name, multiplexed: c.multiplexed, error })
      progress(`${what} FAILED: ${error}`)
    }
  }
  return rows
}

/** The row every ratio compares with: the converge relay driven by converge's own client. */
const baselineOf = <R>(rows: Row<R>[], multiplexed = false): R | undefined =>
  rows.find((r) => r.server === 'converge' && r.client === 'converge' && r.multiplexed === multiplexed)?.result

const label = (r: Row<unknown>) => {
  const target = serverTargets.find((t) => t.name === r.server) as ServerTarget
  return [target.label, `${clientKinds[r.client as keyof typeof clientKinds].label}${r.multiplexed ? ' (1 conn)' : ''}`]
}

const failed = (r: Row<unknown>, columns: number): Cell[] => [
  ...label(r),
  `failed: ${r.error}`,
  ...Array(columns - 3).fill(''),
]

const main = async () => {
  // Stock y-websocket providers each add a process 'exit' listener: hundreds are expected here.
  process.setMaxListeners(0)
  const pinning = pinSelf(LOAD_CPU)
  const trace = loadTrace('automerge-paper')
  const machine = machineFacts([
    'yjs',
    '@y/websocket-server',
    'y-leveldb',
    'y-websocket',
    '@hocuspocus/server',
    '@hocuspocus/provider',
    'level',
  ])
  const command = commandLine('pnpm bench:servers --')
  const header = [
    '# Server benchmark',
    '',
    `command: ${command}`,
    describeMachine(machine),
    `pinning: ${pinning}`,
    `workload: ${trace.name} (${trace.source === 'trace' ? 'recorded trace' : 'SYNTHETIC, the trace was not found'}, ${trace.txns.length} transactions)`,
    `servers: ${targets.map((t) => `${t.label} [${t.persistence}]`).join('; ')}`,
    'ratios: "converge ×" = how many times better the converge relay with its own client did (> 1: converge better)',
    'busy % server/load: share of its core the server and the load generator used; other % (noise): share of the server core / load core that other processes took',
  ].join('\n')
  process.stdout.write(`${header}\n`)
  const results: Record<string, unknown> = {}

  if (scenarios.includes('throughput')) {
    const o = options.throughput
    const rows = await run('throughput', configs(false), (c) => runThroughput(c.target, c.client, trace, o))
    results.throughput = { options: o, rows }
    const base = baselineOf(rows)
    process.stdout.write(
      `\n## (a) Update throughput: ${o.writers} writers × ${o.edits} trace edits, one document each\n\n${table(
        [
          'server',
          'client',
          'applied/s',
          'durable/s',
          'server CPU µs/update',
          'busy % server/load',
          'other % (noise)',
          'converge × (durable/s)',
          'converge × (CPU/update)',
        ],
        rows.map((r) =>
          r.result === undefined
            ? failed(r, 9)
            : [
                ...label(r),
                r.result.appliedPerSecond,
                r.result.durablePerSecond,
                r.result.serverCpuUsPerUpdate,
                formatOwnLoad(r.result.cores),
                formatOtherLoad(r.result.cores),
                advantage(base?.durablePerSecond ?? Number.NaN, r.result.durablePerSecond, true),
                advantage(base?.serverCpuUsPerUpdate ?? Number.NaN, r.result.serverCpuUsPerUpdate, false),
              ],
        ),
      )}\n`,
    )
  }

  if (scenarios.includes('fan-out')) {
    const o = options.fanOut
    const rows = await run('fan-out', configs(false), (c) => runFanOut(c.target, c.client, trace, o))
    results.fanOut = { options: o, rows }
    const base = baselineOf(rows)
    process.stdout.write(
      `\n## (b) Fan-out latency: 1 writer, ${o.readers} readers on one document, ${o.updates} updates at ${o.rate}/s (ms, send → receipt)\n\n${table(
        [
          'server',
          'client',
          'p50',
          'p99',
          'max',
          'last reader p50',
          'last reader p99',
          'busy % server/load',
          'other % (noise)',
          'relay persist p50/p99 ≤',
          'converge × (p50)',
          'converge × (p99)',
        ],
        rows.map((r) =>
          r.result === undefined
            ? failed(r, 12)
            : [
                ...label(r),
                r.result.delivery.p50,
                r.result.delivery.p99,
                r.result.delivery.max,
                r.result.lastReader.p50,
                r.result.lastReader.p99,
                formatOwnLoad(r.result.cores),
                formatOtherLoad(r.result.cores),
                r.result.persist === undefined ? '–' : `${r.result.persist.p50} / ${r.result.persist.p99}`,
                advantage(base?.delivery.p50 ?? Number.NaN, r.result.delivery.p50, false),
                advantage(base?.delivery.p99 ?? Number.NaN, r.result.delivery.p99, false),
              ],
        ),
      )}\n`,
    )
  }

  if (scenarios.includes('cold-sync')) {
    const o = options.coldSync
    const rows = await run('cold-sync', configs(false), (c) => runColdSync(c.target, c.client, trace, o))
    results.coldSync = { options: o, rows }
    const base = baselineOf(rows)
    const bytes = rows.find((r) => r.result)?.result?.docBytes ?? 0
    process.stdout.write(
      `\n## (c) Sync of the whole ${trace.name} document (${Math.round(kib(bytes))} KiB) by a fresh client, median of ${o.rounds} restarts (ms)\n\n${table(
        [
          'server',
          'client',
          'cold',
          'warm',
          'server CPU, cold (ms)',
          'server CPU, warm (ms)',
          'other % (noise)',
          'converge × (cold)',
          'converge × (warm)',
        ],
        rows.map((r) =>
          r.result === undefined
            ? failed(r, 9)
            : [
                ...label(r),
                r.result.coldMedianMs,
                r.result.warmMedianMs,
                r.result.coldServerCpuMs,
                r.result.warmServerCpuMs,
                formatOtherLoad(r.result.cores),
                advantage(base?.coldMedianMs ?? Number.NaN, r.result.coldMedianMs, false),
                advantage(base?.warmMedianMs ?? Number.NaN, r.result.warmMedianMs, false),
              ],
        ),
      )}\n`,
    )
  }

  if (scenarios.includes('memory')) {
    const o = options.memory
    const rows = await run('memory', configs(true), (c) => runMemory(c.target, c.client, trace, o, c.multiplexed))
    results.memory = { options: o, rows }
    const bytes = rows.find((r) => r.result)?.result?.docBytes ?? 0
    process.stdout.write(
      `\n## (d) Memory: ${o.docs} documents open (${o.editsPerDoc} trace edits each, ${Math.round(kib(bytes))} KiB), server RSS\n\n${table(
        [
          'server',
          'client',
          'connections',
          'RSS before (MiB)',
          'RSS open (MiB)',
          'KiB per doc',
          'docs opened/s',
          'other % (noise)',
          'converge × (KiB/doc)',
        ],
        rows.map((r) =>
          r.result === undefined
            ? failed(r, 9)
            : [
                ...label(r),
                r.result.connections,
                r.result.baselineRssMiB,
                r.result.openRssMiB,
                r.result.perDocKiB,
                r.result.openedPerSecond,
                formatOtherLoad(r.result.cores),
                // One connection per doc compares with converge's own client on one connection per doc;
                // multiplexed rows with converge's client multiplexed.
                advantage(baselineOf(rows, r.multiplexed)?.perDocKiB ?? Number.NaN, r.result.perDocKiB, false),
              ],
        ),
      )}\n`,
    )
  }

  const file = await writeResults(args.out as string, {
    benchmark: 'servers',
    command,
    date: new Date().toISOString(),
    machine,
    pinning,
    trace: { name: trace.name, source: trace.source, transactions: trace.txns.length },
    servers: targets.map((t) => ({ name: t.name, label: t.label, persistence: t.persistence })),
    results,
  })
  process.stdout.write(`\nJSON: ${file}\n`)
}

runMain(main)
