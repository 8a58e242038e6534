import type { Replica, Store } from '@converge/core'
import type { Logger } from 'pino'
import type { ClusterConnection } from './cluster-connection.js'
import type { ClusterLedger } from './cluster-ledger.js'
import { DocFeed } from './nats-doc-feed.js'
import type { NatsMetrics } from './nats-metrics.js'
import type { ResolvedNatsOptions } from './nats-options.js'
import type { ClusterSubjects } from './nats-subjects.js'

/** One document's stream consumer and what catch-up and snapshots know about it. */
interface FeedState {
  /** Resolves when the catch-up that started the feed is over (done or timed out). */
  ready: Promise<void>
  feed: DocFeed | undefined
  /** Catch-up writes to the store directly; live updates go through the replica. */
  live: boolean
  /** When it went live (Date.now()). */
  liveSince: number
  /** Being stopped: late updates go to the store directly (the document left memory). */
  stopped: boolean
  /** Stream sequence through which the local copy holds every update. */
  seq: number
  /** Sequence last written to the ledger. */
  savedSeq: number
  /** Stream updates since the last snapshot this relay wrote or read. */
  sinceSnapshot: number
  snapshotting: boolean
}

/** How often applied stream sequences are written to the ledger, in ms (they are replayed idempotently if lost). */
const LEDGER_FLUSH_INTERVAL = 250
/** How often feeds of documents nobody holds any more are stopped, in ms. */
const FEED_SWEEP_INTERVAL = 10_000

/** What the feeds work with; the replica and the metrics are asked for each time (attach replaces them). */
export interface DocFeedsDeps {
  options: ResolvedNatsOptions
  subjects: ClusterSubjects
  connection: ClusterConnection
  ledger: ClusterLedger
  /** The relay's own store (below the cluster's wrapper). */
  inner: Store
  /** Updates that came from the stream: the store wrapper never publishes them again. */
  fromCluster: WeakSet<Uint8Array>
  replica: () => Replica | undefined
  metrics: () => NatsMetrics
  log: Logger
  reportError: (err: unknown, context: string) => void
}

/**
 * The documents this relay follows in the stream: for each, a catch-up before it loads
 * (snapshot, then the stream from the ledger's sequence), then a live feed whose updates go
 * through the replica, snapshots every `snapshotEvery` updates, and the stream position
 * recorded in the ledger. A feed stops when its document leaves memory.
 */
export class DocFeeds {
  private readonly deps: DocFeedsDeps
  private readonly feeds = new Map<string, FeedState>()
  /** Feed stops in progress: close() waits for them (their snapshot and ledger writes). */
  private readonly stopping = new Set<Promise<void>>()
  private readonly timers: Array<ReturnType<typeof setInterval>> = []

  constructor(deps: DocFeedsDeps) {
    this.deps = deps
  }

  /** Starts recording stream positions and stopping feeds nobody needs any more. */
  start(): void {
    this.timers.push(setInterval(() => void this.flushSequences(), LEDGER_FLUSH_INTERVAL))
    this.timers.push(setInterval(() => this.sweep(), FEED_SWEEP_INTERVAL))
    for (const t of this.timers) t.unref?.()
  }

  /** Before a document is read: catch its local copy up with the cluster (bounded by catchupTimeout). */
  catchUp(doc: string): Promise<void> {
    let state = this.feeds.get(doc)
    if (state === undefined) {
      state = {
        ready: Promise.resolve(),
        feed: undefined,
        live: false,
        liveSince: 0,
        stopped: false,
        seq: 0,
        savedSeq: 0,
        sinceSnapshot: 0,
        snapshotting: false,
      }
      this.feeds.set(doc, state)
      this.deps.metrics().feeds.set(this.feeds.size)
      state.ready = this.startFeed(doc, state)
    }
    return state.ready
  }

  /** The document left memory: stop its feed (close() waits for that). */
  release(doc: string): void {
    this.trackStop(this.stopFeed(doc))
  }

  /** A document was deleted here: forget its feed and ledger entry. */
  async forget(doc: string): Promise<void> {
    await this.stopFeed(doc)
    await this.deps.ledger.setSequence(doc, 0).catch(() => undefined)
  }

  /** Stops every feed, recording how far each got. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    for (const doc of [...this.feeds.keys()]) this.release(doc)
    await Promise.allSettled([...this.stopping])
  }

  private async startFeed(doc: string, state: FeedState): Promise<void> {
    const { options, connection, ledger, inner, log, reportError } = this.deps
    const started = performance.now()
    try {
      state.seq = state.savedSeq = await ledger.sequence(doc)
      await connection.startupGrace()
      const snapshots = connection.snapshots
      if (connection.connected && snapshots !== undefined) {
        const snapshot = await withTimeout(snapshots.get(doc), options.catchupTimeout).catch((err) => {
          reportError(err, `reading the snapshot of ${doc}`)
          return undefined
        })
        if (snapshot !== undefined && snapshot.seq > state.seq) {
          this.deps.fromCluster.add(snapshot.state)
          await inner.append(doc, snapshot.state)
          state.seq = snapshot.seq
          this.deps.metrics().snapshots.loaded.inc()
        }
      }
      const feed = new DocFeed({
        js: () => connection.js,
        connected: () => connection.connected,
        stream: options.stream,
        subject: this.deps.subjects.updates(doc),
        after: state.seq,
        apply: (update, seq, publishedAt) => this.applyFromStream(doc, state, update, seq, publishedAt),
        restarted: (reason) => {
          this.deps.metrics().consume.feedRestarts.inc()
          log.warn({ doc, reason }, 'restarting a stream consumer that stopped answering')
        },
        readBySequence: (count) => this.deps.metrics().consume.sequenceReads.inc(count),
        reportError,
      })
      state.feed = feed
      if (connection.connected) {
        const done = await withTimeout(
          feed.caughtUp.then(() => true),
          options.catchupTimeout,
        ).catch(() => false)
        if (!done) this.deps.metrics().catchup.timeouts.inc()
      }
    } catch (err) {
      reportError(err, `catching up ${doc}`)
    } finally {
      // From here on the document may be in memory: updates go through the replica.
      state.live = true
      state.liveSince = Date.now()
      await state.feed?.drained()
      this.deps.metrics().catchup.seconds.observe((performance.now() - started) / 1000)
    }
  }

  private async applyFromStream(
    doc: string,
    state: FeedState,
    update: Uint8Array,
    seq: number,
    publishedAt: number,
  ): Promise<void> {
    this.deps.fromCluster.add(update)
    const replica = this.deps.replica()
    const metrics = this.deps.metrics()
    try {
      // Live: through the replica, which persists, applies and forwards it (it loads the
      // document if a cold read started this feed, or waits for the load under way).
      if (state.live && !state.stopped && replica !== undefined) await replica.applyUpdate(doc, update)
      else await this.deps.inner.append(doc, update)
    } catch (err) {
      metrics.consume.errors.inc()
      throw err
    }
    if (!state.live) metrics.catchup.updates.inc()
    metrics.consume.applied.inc()
    metrics.consume.lagSeconds.observe(Math.max(0, Date.now() - publishedAt) / 1000)
    state.seq = seq
    if (++state.sinceSnapshot >= this.deps.options.snapshotEvery) void this.writeSnapshot(doc, state)
  }

  private trackStop(p: Promise<void>): void {
    this.stopping.add(p)
    void p.finally(() => this.stopping.delete(p))
  }

  private async stopFeed(doc: string): Promise<void> {
    const state = this.feeds.get(doc)
    if (state === undefined) return
    state.stopped = true
    this.feeds.delete(doc)
    this.deps.metrics().feeds.set(this.feeds.size)
    await state.ready
    await withTimeout(state.feed?.stop() ?? Promise.resolve(), this.deps.options.publishTimeout).catch((err) =>
      this.deps.reportError(err, `stopping the feed of ${doc}`),
    )
    if (state.sinceSnapshot > 0) await this.writeSnapshot(doc, state)
    await this.flushSequence(doc, state)
  }

  /** Stops the feeds of documents that are no longer in memory (read cold, by the admin API say). */
  private sweep(): void {
    const replica = this.deps.replica()
    if (replica === undefined) return
    const now = Date.now()
    for (const [doc, state] of this.feeds) {
      const settled = state.live && now - state.liveSince > FEED_SWEEP_INTERVAL
      if (settled && replica.loadedDoc(doc) === undefined) this.release(doc)
    }
  }

  private async writeSnapshot(doc: string, state: FeedState): Promise<void> {
    const bucket = this.deps.connection.snapshots
    if (bucket === undefined || !this.deps.connection.connected || state.snapshotting || state.seq === 0) return
    state.snapshotting = true
    try {
      await state.feed?.drained()
      const seq = state.seq
      const replica = this.deps.replica()
      const whole =
        replica?.loadedDoc(doc) !== undefined ? await replica.encodeState(doc) : await this.deps.inner.load(doc)
      if (whole === undefined) return
      if (await bucket.put(doc, { seq, state: whole })) this.deps.metrics().snapshots.written.inc()
      state.sinceSnapshot = 0
    } catch (err) {
      this.deps.reportError(err, `writing the snapshot of ${doc}`)
    } finally {
      state.snapshotting = false
    }
  }

  private async flushSequence(doc: string, state: FeedState): Promise<void> {
    if (state.seq === state.savedSeq) return
    const seq = state.seq
    try {
      await this.deps.ledger.setSequence(doc, seq)
      state.savedSeq = seq
    } catch (err) {
      this.deps.reportError(err, `recording the stream position of ${doc}`)
    }
  }

  private async flushSequences(): Promise<void> {
    for (const [doc, state] of this.feeds) await this.flushSequence(doc, state)
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (err) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
