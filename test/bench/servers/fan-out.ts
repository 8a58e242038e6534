/**
 * Scenario (b), fan-out latency: one writer and M readers on one document. The writer
 * types one character per update at a steady rate; every reader notes when each update
 * arrives. Latency = receipt − send, both read from this process's clock.
 */
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { measureLatencies, summarizeLatencies } from '../lib/latency.js'
import { type BucketQuantiles, histogramQuantilesBetween } from '../lib/prometheus.js'
import type { latencySummary } from '../lib/stats.js'
import type { Trace } from '../lib/trace.js'
import { withTimeout } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import type { Row } from './rows.js'
import type { ServerTarget } from './targets.js'
import { inBatches, withServer } from './with-server.js'

export interface FanOutOptions {
  /** Readers on the document. Default 100. */
  readers: number
  /** Updates measured, one character each. Default 250. */
  updates: number
  /** Updates per second. Default 50. */
  rate: number
  /** Updates sent before measuring (JIT warm-up). Default 50. */
  warmupUpdates: number
  /** Clients opened at once while connecting. Default 25. */
  connectConcurrency: number
  /** Longest wait for every reader to receive the last update, in ms. Default 60_000. */
  settleTimeout: number
}

export const FAN_OUT_DEFAULTS: FanOutOptions = {
  readers: 100,
  updates: 250,
  rate: 50,
  warmupUpdates: 50,
  connectConcurrency: 25,
  settleTimeout: 60_000,
}

export interface FanOutResult {
  readers: number
  updates: number
  /** Per delivery (reader × update), ms. */
  delivery: ReturnType<typeof latencySummary>
  /** Per update, until the last reader had it, ms. */
  lastReader: ReturnType<typeof latencySummary>
  /** The cores while the updates were sent. */
  cores: CoreLoad
  /**
   * converge only: the relay's own persist latency (converge_persist_seconds) meanwhile,
   * its mean and bucket bounds, ms: durable before visible puts it on the forwarding path.
   */
  persist?: BucketQuantiles
  /**
   * converge only: from an update's arrival to its last socket write to the readers
   * (converge_forward_seconds: persist, apply and the send loop), mean and bucket bounds, ms.
   * The relay's share of the delivery latency; the rest is the network and the readers.
   */
  forward?: BucketQuantiles
  /**
   * With --fan-out-runs N > 1: the delivery p99 of each run, in order (this result is the
   * first run's). A single p99 here moves by several ms between back-to-back runs.
   */
  p99Runs?: number[]
}

/**
 * The rows of N runs of the scenario (each run one row per configuration, in the same
 * order) as one row per configuration: the first run's result with every run's p99.
 */
export const withP99Runs = (runs: Row<FanOutResult>[][]): Row<FanOutResult>[] =>
  (runs[0] ?? []).map((row, i) =>
    row.result === undefined || runs.length < 2
      ? row
      : { ...row, result: { ...row.result, p99Runs: runs.map((r) => r[i]?.result?.delivery.p99 ?? Number.NaN) } },
  )

export const runFanOut = (
  target: ServerTarget,
  client: ClientKind,
  trace: Trace,
  options: FanOutOptions,
): Promise<FanOutResult> =>
  withServer(target, async (server) => {
    const doc = 'fan-out'
    const writer = await client.open(server.url, doc)
    await withTimeout(writer.synced(), 30_000, 'the writer to sync')
    const readers: BenchClient[] = await inBatches(
      Array.from({ length: options.readers }),
      options.connectConcurrency,
      async () => {
        const r = await client.open(server.url, doc)
        await withTimeout(r.synced(), 30_000, 'a reader to sync')
        return r
      },
    )
    const readerDocs = readers.map((r) => r.doc)
    // Warm-up first, on its own: the relay's histograms and the core load then cover only the measured updates.
    const text = trace.endContent
    await measureLatencies(writer.doc, readerDocs, {
      ...options,
      updates: options.warmupUpdates,
      warmupUpdates: 0,
      text,
    })
    const metricsBefore = (await server.metrics?.()) ?? ''
    const watch = new CoreLoadWatch([server.process.pid])
    const perReader = await measureLatencies(writer.doc, readerDocs, { ...options, warmupUpdates: 0, text })
    const cores = watch.stop()
    const metricsAfter = await server.metrics?.()
    const relay =
      metricsAfter === undefined
        ? {}
        : {
            persist: histogramQuantilesBetween(metricsBefore, metricsAfter, 'converge_persist_seconds'),
            forward: histogramQuantilesBetween(metricsBefore, metricsAfter, 'converge_forward_seconds'),
          }
    await Promise.all([writer, ...readers].map((c) => c.close()))
    return { readers: options.readers, updates: options.updates, ...summarizeLatencies(perReader), cores, ...relay }
  })
