/**
 * Mesh benchmark (issue 4): catch-up after a partition — bytes on the wire against the
 * size of the missed updates (goal ≤ 1.2×) — and fan-out latency through 1 and 3 relay
 * hops. Relays are converge CLI processes pinned to core 0; this load generator is pinned
 * to core 1. Prints tables and writes test/bench/results/<out>.json.
 *
 *   node test/bench/dist/mesh/mesh-bench.js [--quick] [--scenarios catch-up,hops] [--out mesh]
 */
import { progress } from '../lib/attempt.js'
import { listArg, parseBenchArgs } from '../lib/bench-args.js'
import { formatOtherLoad, formatOwnLoad } from '../lib/core-load.js'
import { LOAD_CPU, pinSelf } from '../lib/pinning.js'
import { type Cell, runMain, table, writeResults } from '../lib/report.js'
import { printHeader, runFacts, traceWorkload } from '../lib/run-facts.js'
import { loadTrace } from '../lib/trace.js'
import { CATCH_UP_DEFAULTS, type CatchUpResult, runCatchUp } from './catch-up.js'
import { HOPS_DEFAULTS, runHops } from './hops.js'

/** The issue's goal: bytes on the wire at most this many times the missed updates. */
const GOAL = 1.2

const SCENARIOS = ['catch-up', 'hops'] as const

const { values: args } = parseBenchArgs({
  quick: { type: 'boolean', default: false },
  scenarios: { type: 'string', default: SCENARIOS.join(',') },
  out: { type: 'string', default: 'mesh' },
})
const quick = args.quick === true
const scenarios = listArg(args.scenarios as string, SCENARIOS, 'scenario')

const options = {
  catchUp: quick
    ? { ...CATCH_UP_DEFAULTS, missedEdits: [10, 1_000], backgroundDocs: 200, baseEdits: 500, largeDocEdits: 10 }
    : CATCH_UP_DEFAULTS,
  hops: quick ? { ...HOPS_DEFAULTS, updates: 60, warmupUpdates: 10 } : HOPS_DEFAULTS,
}

const ratio = (wire: number, size: number): string => {
  const r = wire / size
  return `${r.toFixed(2)}${r <= GOAL ? ' ✓' : ' ✗'}`
}

const breakdownTable = (r: CatchUpResult): string =>
  table(
    ['kind', 'A→B frames', 'A→B bytes', 'B→A frames', 'B→A bytes', 'Yjs update bytes carried', 'empty step2/update'],
    r.breakdown.map((l): Cell[] => [
      l.kind,
      l.down?.frames ?? 0,
      l.down?.bytes ?? 0,
      l.up?.frames ?? 0,
      l.up?.bytes ?? 0,
      (l.down?.updateBytes ?? 0) + (l.up?.updateBytes ?? 0) || undefined,
      (l.down?.empty ?? 0) + (l.up?.empty ?? 0) || undefined,
    ]),
  )

const main = async () => {
  const pinning = pinSelf(LOAD_CPU)
  const trace = loadTrace('automerge-paper')
  const facts = runFacts('pnpm bench:mesh --', ['yjs', 'ws', 'level'], pinning)
  printHeader('Mesh benchmark', facts, [traceWorkload(trace)], ' (all relays on the server core)')
  const results: Record<string, unknown> = {}

  if (scenarios.includes('catch-up')) {
    const o = options.catchUp
    const rows = await runCatchUp(trace, o, progress)
    results.catchUp = { options: o, rows }
    process.stdout.write(
      `\n## Catch-up after a partition: relays A–B through a counting proxy, B misses K edits typed on A (bytes)\n\n${table(
        [
          'docs on relays',
          'doc before',
          'edits missed',
          'missed updates, summed',
          'missed state as one diff',
          'wire until B had all',
          'wire until quiet',
          `wire ÷ diff (goal ≤ ${GOAL})`,
          `wire ÷ sum (goal ≤ ${GOAL})`,
          'reconnect (ms)',
          'catch-up (ms)',
        ],
        rows.map((r) => [
          r.docsOnRelays,
          r.baseBytes,
          r.missedEdits,
          r.sumOfUpdates,
          r.diffBytes,
          r.wireUntilCaughtUp,
          r.wireTotal,
          ratio(r.wireTotal, r.diffBytes),
          ratio(r.wireTotal, r.sumOfUpdates),
          r.reconnectMs,
          r.catchUpMs,
        ]),
      )}\n`,
    )
    for (const r of rows) {
      process.stdout.write(
        `\n### Where the bytes went: ${r.missedEdits} edits missed on a ${r.baseBytes}-byte document, ${r.docsOnRelays} docs on the relays (after the restore, until quiet)\n\n${breakdownTable(r)}\n`,
      )
    }
  }

  if (scenarios.includes('hops')) {
    const o = options.hops
    progress('hops …')
    const { rows, cores } = await runHops(trace, o)
    results.hops = { options: o, rows, cores }
    process.stdout.write(
      `\n## Fan-out through relay hops: line A–B–C–D, a converge client on A writes ${o.updates} updates at ${o.rate}/s; converge clients read (ms, send → receipt)\n\n${table(
        ['reader on', 'hops', 'p50', 'p90', 'p99', 'max'],
        rows.map((r) => [r.relay, r.hops, r.latency.p50, r.latency.p90, r.latency.p99, r.latency.max]),
      )}\n\nbusy % relays/load: ${formatOwnLoad(cores)}; other processes on the relay core / load core (noise): ${formatOtherLoad(cores)} %\n`,
    )
  }

  const file = await writeResults(args.out as string, {
    benchmark: 'mesh',
    ...facts,
    trace: { name: trace.name, source: trace.source },
    results,
  })
  process.stdout.write(`\nJSON: ${file}\n`)
}

runMain(main)
