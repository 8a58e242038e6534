/** The markdown table of each servers-bench scenario. */
import { formatOtherLoad, formatOwnLoad } from '../lib/core-load.js'
import { outcomeTable } from '../lib/outcome-table.js'
import type { BucketQuantiles } from '../lib/prometheus.js'
import { advantage, kib } from '../lib/report.js'
import type { ColdSyncOptions, ColdSyncResult } from './cold-sync.js'
import type { FanOutOptions, FanOutResult } from './fan-out.js'
import type { JoinStormOptions, JoinStormResult } from './join-storm.js'
import type { MemoryOptions, MemoryResult } from './memory.js'
import type { PresenceOptions, PresenceResult } from './presence.js'
import { baselineOf, LOAD_HEADERS, label, loadCells, type Row } from './rows.js'
import type { ThroughputOptions, ThroughputResult } from './throughput.js'

const pct = (share: number) => Math.round(share * 100)

export const throughputTable = (rows: Row<ThroughputResult>[], o: ThroughputOptions): string => {
  const base = baselineOf(rows)
  return `## (a) Update throughput: ${o.writers} writers × ${o.edits} trace edits, one document each\n\n${outcomeTable(
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
    rows,
    label,
    (result) => [
      result.appliedPerSecond,
      result.durablePerSecond,
      result.serverCpuUsPerUpdate,
      formatOwnLoad(result.cores),
      formatOtherLoad(result.cores),
      advantage(base?.durablePerSecond ?? Number.NaN, result.durablePerSecond, true),
      advantage(base?.serverCpuUsPerUpdate ?? Number.NaN, result.serverCpuUsPerUpdate, false),
    ],
  )}`
}

/** A relay histogram's reading in the fan-out table: `mean, p50 / p99` (bucket bounds), ms. */
const relayTiming = (h: BucketQuantiles | undefined): string =>
  h === undefined ? '–' : `${h.mean.toFixed(2)}, ${h.p50} / ${h.p99}`

export const fanOutTable = (rows: Row<FanOutResult>[], o: FanOutOptions): string => {
  const base = baselineOf(rows)
  const runs = Math.max(...rows.map((r) => r.result?.p99Runs?.length ?? 1))
  const perRun = runs > 1 ? [`p99 of each of ${runs} runs`] : []
  return `## (b) Fan-out latency: 1 writer, ${o.readers} readers on one document, ${o.updates} updates at ${o.rate}/s (ms, send → receipt)\n\n${outcomeTable(
    [
      'server',
      'client',
      'p50',
      'p99',
      ...perRun,
      'max',
      'last reader p50',
      'last reader p99',
      'server CPU % of a core',
      ...LOAD_HEADERS,
      'relay persist mean, p50/p99 ≤',
      'relay arrival → last write mean, p50/p99 ≤',
      'converge × (p50)',
      'converge × (p99)',
    ],
    rows,
    label,
    (result) => [
      result.delivery.p50,
      result.delivery.p99,
      ...(runs > 1 ? [(result.p99Runs ?? [result.delivery.p99]).map((v) => v.toPrecision(3)).join(' / ')] : []),
      result.delivery.max,
      result.lastReader.p50,
      result.lastReader.p99,
      pct(result.cores.server),
      ...loadCells(result.cores),
      relayTiming(result.persist),
      relayTiming(result.forward),
      advantage(base?.delivery.p50 ?? Number.NaN, result.delivery.p50, false),
      advantage(base?.delivery.p99 ?? Number.NaN, result.delivery.p99, false),
    ],
  )}`
}

export const coldSyncTable = (rows: Row<ColdSyncResult>[], o: ColdSyncOptions, traceName: string): string => {
  const base = baselineOf(rows)
  const bytes = rows.find((r) => r.result)?.result?.docBytes ?? 0
  return `## (c) Cold and warm sync of the whole ${traceName} document (${Math.round(kib(bytes))} KiB) by a fresh client, median of ${o.rounds} restarts (ms)\n\n${outcomeTable(
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
    rows,
    label,
    (result) => [
      result.coldMedianMs,
      result.warmMedianMs,
      result.coldServerCpuMs,
      result.warmServerCpuMs,
      formatOtherLoad(result.cores),
      advantage(base?.coldMedianMs ?? Number.NaN, result.coldMedianMs, false),
      advantage(base?.warmMedianMs ?? Number.NaN, result.warmMedianMs, false),
    ],
  )}`
}

export const memoryTable = (rows: Row<MemoryResult>[], o: MemoryOptions): string => {
  const bytes = rows.find((r) => r.result)?.result?.docBytes ?? 0
  const diagnostics = [...new Set(rows.flatMap((r) => r.result?.diagnostics ?? []))]
  // A heap snapshot leaves native memory resident: the RSS after it (after unload, with one taken with every document open) is not what a plain run reads.
  const note =
    diagnostics.length === 0
      ? ''
      : `\n\nDIAGNOSTICS ON (${diagnostics.join(', ')}): RSS figures read after a heap snapshot or during sampling are inflated; do not compare them with plain runs.`
  const steady = Math.round(o.steadyMs / 1000)
  return `## (d) Memory: ${o.docs} documents × ${o.clientsPerDoc} clients (${o.editsPerDoc} trace edits each, ${Math.round(kib(bytes))} KiB), after a warm-up of ${o.warmupDocs} other documents opened and unloaded; server RSS ${Math.round(o.settleMs / 1000)} s and ${steady} s (steady) after the activity stopped, and live heap (after a forced GC), per document; then all clients leave (converge relay: --unload-delay ${o.unloadDelayMs} ms; the others unload at once)${o.againDocs > 0 ? `, and a second round of ${o.againDocs} other documents is opened and unloaded ("2nd round": heap after it against heap after the first, per document)` : ''}${note}\n\n${outcomeTable(
    [
      'server',
      'client',
      'connections',
      'RSS before (MiB)',
      'RSS open (MiB)',
      `RSS KiB/doc, ${Math.round(o.settleMs / 1000)} s`,
      `RSS KiB/doc, steady (${steady} s)`,
      'heap KiB/doc',
      'external KiB/doc',
      'after unload: RSS KiB/doc (steady)',
      'after unload: heap KiB/doc',
      'after unload, 2nd round: heap KiB/doc',
      'docs opened/s',
      'docs in memory, 2 s / steady',
      'other % (noise)',
      'converge × (steady RSS/doc)',
    ],
    rows,
    label,
    (result, r) => [
      result.connections,
      result.baseline.rssSteadyMiB,
      result.open.rssMiB,
      result.perDocKiB,
      result.steadyPerDocKiB,
      result.heapPerDocKiB,
      result.externalPerDocKiB,
      result.rssLeftPerDocKiB,
      result.heapLeftPerDocKiB,
      result.heapLeftAgainPerDocKiB,
      result.openedPerSecond,
      // converge only: documents with a Y.Doc (see MemoryPoint.docsLoaded).
      Number.isFinite(result.open.docsLoaded) ? `${result.open.docsLoaded} / ${result.open.docsLoadedSteady}` : '–',
      formatOtherLoad(result.cores),
      // One connection per doc compares with converge's own client on one connection per doc;
      // multiplexed rows with converge's client multiplexed.
      advantage(baselineOf(rows, r.multiplexed)?.steadyPerDocKiB ?? Number.NaN, result.steadyPerDocKiB, false),
    ],
  )}`
}

export const presenceTable = (rows: Row<PresenceResult>[], o: PresenceOptions): string =>
  `## (e) Presence: ${o.clients} clients on one document, each moving its cursor (awareness) ${o.rate}×/s, ${o.seconds} s measured after ${o.warmupSeconds} s\n\n${outcomeTable(
    ['server', 'client', 'server CPU % of a core', 'awareness p50 (ms)', 'p99', 'max', 'delivered %', ...LOAD_HEADERS],
    rows,
    label,
    (result) => [
      pct(result.serverCpuShare),
      result.delivery.p50,
      result.delivery.p99,
      result.delivery.max,
      pct(result.deliveredShare),
      ...loadCells(result.cores),
    ],
  )}`

export const joinStormTable = (rows: Row<JoinStormResult>[], o: JoinStormOptions, workload: string): string => {
  const bytes = rows.find((r) => r.result)?.result?.docBytes ?? 0
  return `## (f) Join storm: server restarted, ${o.clients} clients join a ${(bytes / 2 ** 20).toFixed(2)} MiB document at once (${workload})\n\n${outcomeTable(
    [
      'server',
      'client',
      'all synced (ms)',
      'first synced (ms)',
      'server CPU (s)',
      'RSS before (MiB)',
      'peak RSS (MiB)',
      ...LOAD_HEADERS,
    ],
    rows,
    label,
    (result) => [
      result.allSyncedMs,
      result.firstSyncedMs,
      result.serverCpuMs / 1000,
      result.rssBeforeMiB,
      result.peakRssMiB,
      ...loadCells(result.cores),
    ],
  )}`
}
