/**
 * Server benchmark: the converge relay beside @y/websocket-server (y-leveldb) and
 * Hocuspocus (LevelDB), one after another in one run, each server its own process pinned
 * to core 0 and this load generator pinned to core 1. Prints a table per scenario, the
 * issue 12 goals table, and writes test/bench/results/<out>.json. See test/bench/README.md.
 *
 *   node test/bench/dist/servers/servers-bench.js [--quick]
 *     [--scenarios throughput,fan-out,cold-sync,memory,presence,join-storm]
 *     [--servers converge,y-websocket-server,hocuspocus,bare-ws,bare-ws-level,bare-broadcast] [--clients converge,y-websocket,hocuspocus-provider]
 *     [--multiplexed] [--docs N] [--warmup-docs N] [--steady-ms MS] [--fan-out-runs N] [--out servers] [--help]
 */
import { attempt } from '../lib/attempt.js'
import { intArg as int, listArg, parseBenchArgs } from '../lib/bench-args.js'
import { LOAD_CPU, pinSelf } from '../lib/pinning.js'
import { runMain, writeResults } from '../lib/report.js'
import { printHeader, runFacts, traceWorkload } from '../lib/run-facts.js'
import { loadTrace } from '../lib/trace.js'
import { type ClientKind, type ClientName, clientKinds } from './clients.js'
import { COLD_SYNC_DEFAULTS, runColdSync } from './cold-sync.js'
import { FAN_OUT_DEFAULTS, type FanOutResult, runFanOut, withP99Runs } from './fan-out.js'
import { goalsOf, goalsTable, type ScenarioRows } from './goals.js'
import { JOIN_STORM_DEFAULTS, runJoinStorm } from './join-storm.js'
import { MEMORY_DEFAULTS, runMemory } from './memory.js'
import { PRESENCE_DEFAULTS, runPresence } from './presence.js'
import type { Row } from './rows.js'
import { coldSyncTable, fanOutTable, joinStormTable, memoryTable, presenceTable, throughputTable } from './tables.js'
import {
  bareBroadcastTarget,
  bareWsLevelTarget,
  bareWsTarget,
  floorTargets,
  type ServerTarget,
  serverTargets,
} from './targets.js'
import { runThroughput, THROUGHPUT_DEFAULTS } from './throughput.js'

const SCENARIOS = ['throughput', 'fan-out', 'cold-sync', 'memory', 'presence', 'join-storm'] as const
const ALL_TARGETS = [...serverTargets, ...floorTargets]
const ALL_CLIENTS = Object.keys(clientKinds) as ClientName[]

const { values: args } = parseBenchArgs({
  quick: { type: 'boolean', default: false },
  scenarios: { type: 'string', default: SCENARIOS.join(',') },
  servers: { type: 'string', default: ALL_TARGETS.map((t) => t.name).join(',') },
  clients: { type: 'string', default: ALL_CLIENTS.join(',') },
  multiplexed: { type: 'boolean', default: false },
  out: { type: 'string', default: 'servers' },
  edits: { type: 'string' },
  readers: { type: 'string' },
  'fan-out-runs': { type: 'string' },
  docs: { type: 'string' },
  'warmup-docs': { type: 'string' },
  'again-docs': { type: 'string' },
  'steady-ms': { type: 'string' },
  rounds: { type: 'string' },
  'presence-clients': { type: 'string' },
  'storm-clients': { type: 'string' },
  'storm-copies': { type: 'string' },
  help: { type: 'boolean', default: false },
})

const USAGE = `node test/bench/dist/servers/servers-bench.js [--quick]
  [--scenarios ${SCENARIOS.join(',')}]
  [--servers ${ALL_TARGETS.map((t) => t.name).join(',')}] [--clients ${ALL_CLIENTS.join(',')}]
  [--multiplexed] [--fan-out-runs N (default 1)] [--out NAME (test/bench/results/NAME.json)]
  sizes: [--edits N] (throughput) [--readers N] (fan-out) [--rounds N] (cold sync)
  [--docs N] [--warmup-docs N (default ${MEMORY_DEFAULTS.warmupDocs})] [--again-docs N (second round; default: --docs)] [--steady-ms MS (default ${MEMORY_DEFAULTS.steadyMs})] (memory)
  [--presence-clients N] [--storm-clients N] [--storm-copies N]
See test/bench/README.md.
`
if (args.help === true) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const quick = args.quick === true
/** Fan-out runs, back-to-back (--fan-out-runs N): the table gives each run's p99, the goal their median. */
const fanOutRuns = int(args['fan-out-runs'], 1)
if (!Number.isInteger(fanOutRuns) || fanOutRuns < 1) throw new Error('--fan-out-runs must be a positive integer')

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
    warmupDocs: int(args['warmup-docs'], quick ? 10 : MEMORY_DEFAULTS.warmupDocs),
    againDocs: int(args['again-docs'], int(args.docs, quick ? 50 : MEMORY_DEFAULTS.againDocs)),
    steadyMs: int(args['steady-ms'], quick ? 2_000 : MEMORY_DEFAULTS.steadyMs),
  },
  presence: {
    ...PRESENCE_DEFAULTS,
    clients: int(args['presence-clients'], quick ? 20 : PRESENCE_DEFAULTS.clients),
    seconds: quick ? 3 : PRESENCE_DEFAULTS.seconds,
    warmupSeconds: quick ? 1 : PRESENCE_DEFAULTS.warmupSeconds,
  },
  joinStorm: {
    ...JOIN_STORM_DEFAULTS,
    clients: int(args['storm-clients'], quick ? 5 : JOIN_STORM_DEFAULTS.clients),
    copies: int(args['storm-copies'], quick ? 1 : JOIN_STORM_DEFAULTS.copies),
  },
}

const scenarios = listArg(args.scenarios as string, SCENARIOS, 'scenario')
const targets = listArg(
  args.servers as string,
  ALL_TARGETS.map((t) => t.name),
  'server',
).map((name) => ALL_TARGETS.find((t) => t.name === name) as ServerTarget)
const clientNames = listArg(args.clients as string, ALL_CLIENTS, 'client')

interface Config {
  target: ServerTarget
  client: ClientKind
  multiplexed: boolean
}

/**
 * The server × client pairs of a scenario. `floors`: that scenario's floor servers too (the
 * bare ws server and bare ws + LevelDB for memory, the bare ws broadcast for fan-out); `stockOnly`: stock clients
 * only (presence and join storm: what the goals compare).
 */
const configs = ({ multiplexed = false, floors = [] as ServerTarget[], stockOnly = false } = {}): Config[] =>
  targets
    .filter((t) => floors.includes(t) || !floorTargets.includes(t))
    .flatMap((target) =>
      target.clients
        .filter((name) => clientNames.includes(name) || name === 'raw-ws')
        .filter((name) => !stockOnly || name !== 'converge')
        .flatMap((name) => {
          const client = clientKinds[name]
          const one = [{ target, client, multiplexed: false }]
          return multiplexed && client.openMany !== undefined ? [...one, { target, client, multiplexed: true }] : one
        }),
    )

const run = async <R>(scenario: string, list: Config[], fn: (c: Config) => Promise<R>): Promise<Row<R>[]> => {
  const rows: Row<R>[] = []
  for (const c of list) {
    const what = `${scenario}: ${c.target.label} + ${c.client.label}${c.multiplexed ? ' (one connection)' : ''}`
    const outcome = await attempt(what, () => fn(c))
    rows.push({ server: c.target.name, client: c.client.name, multiplexed: c.multiplexed, ...outcome })
  }
  return rows
}

const main = async () => {
  // Stock y-websocket providers each add a process 'exit' listener: hundreds are expected here.
  process.setMaxListeners(0)
  const pinning = pinSelf(LOAD_CPU)
  const trace = loadTrace('automerge-paper')
  const facts = runFacts(
    'pnpm bench:servers --',
    ['yjs', '@y/websocket-server', 'y-leveldb', 'y-websocket', '@hocuspocus/server', '@hocuspocus/provider', 'level'],
    pinning,
  )
  printHeader('Server benchmark', facts, [
    traceWorkload(trace, `${trace.txns.length} transactions`),
    `servers: ${targets.map((t) => `${t.label} [${t.persistence}]`).join('; ')}`,
    'ratios: "converge ×" = how many times better the converge relay with its own client did (> 1: converge better)',
    'busy % server/load: share of its core the server and the load generator used; other % (noise): share of the server core / load core that other processes took',
    'bound by: "load gen." when the load generator used ≥ 90 % of its core (its clients, not the server, set the pace: compare server CPU there), "load core" when it and other processes together did; "server" / "server core" likewise',
  ])
  const results: Record<string, unknown> = {}

  const rows: ScenarioRows = {}
  const save = () =>
    writeResults(args.out as string, {
      benchmark: 'servers',
      ...facts,
      trace: { name: trace.name, source: trace.source, transactions: trace.txns.length },
      servers: targets.map((t) => ({ name: t.name, label: t.label, persistence: t.persistence })),
      results,
    })
  // Each scenario's table as soon as it is done, and the JSON so far (a crash keeps what ran).
  const print = async (text: string) => {
    process.stdout.write(`\n${text}\n`)
    await save()
  }

  if (scenarios.includes('throughput')) {
    const o = options.throughput
    rows.throughput = await run('throughput', configs(), (c) => runThroughput(c.target, c.client, trace, o))
    results.throughput = { options: o, rows: rows.throughput }
    await print(throughputTable(rows.throughput, o))
  }

  if (scenarios.includes('fan-out')) {
    const o = options.fanOut
    // Runs interleaved (every server once, then again), so a noisy stretch hits them alike.
    const runs: Row<FanOutResult>[][] = []
    for (let i = 1; i <= fanOutRuns; i++) {
      const name = fanOutRuns > 1 ? `fan-out, run ${i}/${fanOutRuns}` : 'fan-out'
      runs.push(
        await run(name, configs({ floors: [bareBroadcastTarget] }), (c) => runFanOut(c.target, c.client, trace, o)),
      )
    }
    rows.fanOut = withP99Runs(runs)
    results.fanOut = { options: { ...o, runs: fanOutRuns }, rows: rows.fanOut }
    await print(fanOutTable(rows.fanOut, o))
  }

  if (scenarios.includes('cold-sync')) {
    const o = options.coldSync
    rows.coldSync = await run('cold-sync', configs(), (c) => runColdSync(c.target, c.client, trace, o))
    results.coldSync = { options: o, rows: rows.coldSync }
    await print(coldSyncTable(rows.coldSync, o, trace.name))
  }

  if (scenarios.includes('memory')) {
    const o = options.memory
    const list = configs({ multiplexed: args.multiplexed === true, floors: [bareWsTarget, bareWsLevelTarget] })
    rows.memory = await run('memory', list, (c) => runMemory(c.target, c.client, trace, o, c.multiplexed))
    results.memory = { options: o, rows: rows.memory }
    await print(memoryTable(rows.memory, o))
  }

  if (scenarios.includes('presence')) {
    const o = options.presence
    rows.presence = await run('presence', configs({ stockOnly: true }), (c) => runPresence(c.target, c.client, o))
    results.presence = { options: o, rows: rows.presence }
    await print(presenceTable(rows.presence, o))
  }

  if (scenarios.includes('join-storm')) {
    const o = options.joinStorm
    const list = configs({ stockOnly: true })
    rows.joinStorm = await run('join-storm', list, (c) => runJoinStorm(c.target, c.client, trace, o))
    results.joinStorm = { options: o, rows: rows.joinStorm }
    const workload = `${trace.name} typed into ${o.copies} texts, ${trace.source === 'trace' ? 'recorded trace' : 'SYNTHETIC'}`
    await print(joinStormTable(rows.joinStorm, o, workload))
  }

  const goals = goalsOf(rows)
  results.goals = goals
  if (goals.length > 0) await print(goalsTable(goals))

  const file = await save()
  process.stdout.write(`\nJSON: ${file}\n`)
}

runMain(main)
