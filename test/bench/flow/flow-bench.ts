/**
 * Flow-control benchmark (issue 11): a burst of trace edits from a stock y-websocket
 * client against @y/websocket-server and the converge relay (and from a stock
 * @hocuspocus/provider against @hocuspocus/server), the same burst with converge
 * Replicas, and the flush of a large offline queue. Servers run pinned to core 0, this
 * load generator to core 1. Prints a table per scenario and writes
 * test/bench/results/<out>.json. See test/bench/README.md.
 *
 *   node test/bench/dist/flow/flow-bench.js [--quick] [--scenarios burst,replica-burst,offline-flush]
 *     [--servers converge,y-websocket-server,hocuspocus] [--out flow]
 */
import { attempt as attemptOutcome, type Outcome } from '../lib/attempt.js'
import { intArg as int, listArg, parseBenchArgs } from '../lib/bench-args.js'
import { formatOtherLoad, formatOwnLoad } from '../lib/core-load.js'
import { outcomeTable } from '../lib/outcome-table.js'
import { LOAD_CPU, pinSelf } from '../lib/pinning.js'
import { runMain, writeResults } from '../lib/report.js'
import { printHeader, runFacts, traceWorkload } from '../lib/run-facts.js'
import { loadTrace } from '../lib/trace.js'
import { convergeTarget, hocuspocusTarget, yWebsocketServerTarget } from '../servers/targets.js'
import { BURST_DEFAULTS, type BurstClientKind, type BurstResult, runBurst } from './burst.js'
import { OFFLINE_FLUSH_DEFAULTS, type OfflineFlushResult, runOfflineFlush } from './offline-flush.js'

const SCENARIOS = ['burst', 'replica-burst', 'offline-flush'] as const

const { values: args } = parseBenchArgs({
  quick: { type: 'boolean', default: false },
  scenarios: { type: 'string', default: SCENARIOS.join(',') },
  out: { type: 'string', default: 'flow' },
  edits: { type: 'string' },
  updates: { type: 'string' },
  servers: { type: 'string', default: 'converge,y-websocket-server,hocuspocus' },
})

const quick = args.quick === true
const burstOptions = { ...BURST_DEFAULTS, edits: int(args.edits, quick ? 5_000 : BURST_DEFAULTS.edits) }
const flushOptions = {
  ...OFFLINE_FLUSH_DEFAULTS,
  updates: int(args.updates, quick ? 5_000 : OFFLINE_FLUSH_DEFAULTS.updates),
}
const scenarios = listArg(args.scenarios as string, SCENARIOS, 'scenario')
const SERVERS = ['converge', 'y-websocket-server', 'hocuspocus'] as const
const servers = listArg(args.servers as string, SERVERS, 'server')
/** The burst's stock-client servers picked by --servers, in table order. */
const burstTargets = [yWebsocketServerTarget, convergeTarget].filter((t) => servers.some((s) => s === t.name))

interface Row<R> extends Outcome<R> {
  server: string
  client: string
}

const attempt = async <R>(server: string, client: string, fn: () => Promise<R>): Promise<Row<R>> => ({
  server,
  client,
  ...(await attemptOutcome(`${server} + ${client}`, fn)),
})

const rowLabel = (r: Row<unknown>) => [r.server, r.client]

const burstFigures = (result: BurstResult) => [
  result.typedMs,
  result.observerMs,
  result.savedMs ?? '–',
  result.writerCloses.length === 0 ? 'none' : result.writerCloses.join(' '),
  `${result.survivedPercent.toFixed(1)} %${result.survivedWhole ? ' (whole text)' : ''}`,
  result.serverCpuMs,
  formatOwnLoad(result.cores),
  formatOtherLoad(result.cores),
  relayColumn(result.relay),
]

const relayColumn = (f: BurstResult['relay']): string =>
  f === undefined
    ? '–'
    : `${f.pauses} pauses, ${f.pausedSeconds.toFixed(2)} s paused; ${f.persists} persists, mean ${
        f.persists === 0 ? 0 : ((1000 * f.persistSeconds) / f.persists).toFixed(2)
      } ms`

const BURST_HEADERS = [
  'server',
  'client',
  'typed (ms)',
  'observer has all (ms)',
  'writer saved (ms)',
  'writer closes',
  'survives SIGKILL',
  'server CPU (ms)',
  'busy % server/load',
  'other % (noise)',
  'relay flow and persist',
]

const main = async () => {
  process.setMaxListeners(0)
  const pinning = pinSelf(LOAD_CPU)
  const trace = loadTrace('automerge-paper')
  const facts = runFacts(
    'pnpm bench:flow --',
    ['yjs', '@y/websocket-server', 'y-leveldb', 'y-websocket', '@hocuspocus/server', '@hocuspocus/provider'],
    pinning,
  )
  printHeader('Flow-control benchmark', facts, [traceWorkload(trace)])
  const results: Record<string, unknown> = {}

  if (scenarios.includes('burst')) {
    const rows: Row<BurstResult>[] = []
    for (const target of burstTargets) {
      rows.push(await attempt(target.label, 'y-websocket', () => runBurst(target, 'y-websocket', trace, burstOptions)))
    }
    // Hocuspocus speaks its own protocol: its stock provider as writer and observer.
    if (servers.includes('hocuspocus'))
      rows.push(
        await attempt(hocuspocusTarget.label, '@hocuspocus/provider', () =>
          runBurst(hocuspocusTarget, 'hocuspocus', trace, burstOptions),
        ),
      )
    results.burst = { options: burstOptions, rows }
    process.stdout.write(
      `\n## Burst: a stock client types ${burstOptions.edits} trace edits (yield every ${burstOptions.yieldEvery}), a stock observer of the same kind waits for the text; then SIGKILL, restart, read back\n\n${outcomeTable(BURST_HEADERS, rows, rowLabel, burstFigures)}\n`,
    )
  }

  if (scenarios.includes('replica-burst')) {
    const kind: BurstClientKind = 'converge'
    const rows = [
      await attempt(convergeTarget.label, 'converge Replica', () =>
        runBurst(convergeTarget, kind, trace, burstOptions),
      ),
    ]
    results.replicaBurst = { options: burstOptions, rows }
    process.stdout.write(
      `\n## The same burst with converge Replicas (in-memory stores) as writer and observer\n\n${outcomeTable(BURST_HEADERS, rows, rowLabel, burstFigures)}\n`,
    )
  }

  if (scenarios.includes('offline-flush')) {
    const rows = [
      await attempt(convergeTarget.label, 'converge Replica', () => runOfflineFlush(convergeTarget, flushOptions)),
    ]
    results.offlineFlush = { options: flushOptions, rows }
    process.stdout.write(
      `\n## Offline flush: a Replica with ${flushOptions.updates} queued updates of ${flushOptions.updateBytes} bytes connects\n\n${outcomeTable(
        [
          'server',
          'client',
          'queued (MiB)',
          'time to saved (ms)',
          'closes (code reason)',
          'relay RSS before (MiB)',
          'relay peak RSS (MiB)',
          'server CPU (ms)',
          'other % (noise)',
        ],
        rows,
        rowLabel,
        (result: OfflineFlushResult) => [
          result.queuedMiB,
          result.savedMs,
          result.closes === 0 ? 'none' : result.closeCodes.join('; '),
          result.serverRssBeforeMiB,
          result.serverPeakRssMiB,
          result.serverCpuMs,
          formatOtherLoad(result.cores),
        ],
      )}\n`,
    )
  }

  const file = await writeResults(args.out as string, {
    benchmark: 'flow',
    ...facts,
    trace: { name: trace.name, source: trace.source },
    results,
  })
  process.stdout.write(`\nJSON: ${file}\n`)
}

runMain(main)
