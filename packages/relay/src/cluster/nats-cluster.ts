import { createHash } from 'node:crypto'
import { type AppendMeta, definedOnly, type Replica, type ReplicaObserver, type Store } from '@converge/core'
import { type JetStreamClient, jetstream } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { ClusterLedger } from './cluster-ledger.js'
import { NatsAwareness } from './nats-awareness.js'
import { ensureStreamAndBucket, natsConnectionOptions } from './nats-connection.js'
import { DocFeed } from './nats-doc-feed.js'
import { NatsMetrics } from './nats-metrics.js'
import { NATS_DEFAULTS, type NatsClusterOptions, type ResolvedNatsOptions } from './nats-options.js'
import { NatsPublisher } from './nats-publisher.js'
import type { SnapshotBucket } from './nats-snapshots.js'
import { ClusterSubjects } from './nats-subjects.js'

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

/**
 * A relay's membership in a cluster on NATS JetStream. It publishes every update made
 * durable here (from this relay's clients) to `<prefix>.doc.<doc>` in one stream, keeps a
 * live ordered consumer for each document this relay has loaded, catches a document up
 * from the stream (and the snapshot bucket) before it loads, and bridges presence over
 * core NATS. It plugs into the relay as a Store wrapper (see ClusterStore), a
 * ReplicaObserver (documents loaded and unloaded) and a saved gate.
 */
export class NatsCluster {
  readonly options: ResolvedNatsOptions
  /** The cluster's metrics, on the relay's registry (see attach). */
  metrics: NatsMetrics
  readonly subjects: ClusterSubjects
  private readonly inner: Store
  private readonly ledger: ClusterLedger
  private readonly log: Logger
  private readonly publisher: NatsPublisher
  /** Updates that came from the stream: the store wrapper never publishes them again. */
  private readonly fromCluster = new WeakSet<Uint8Array>()
  private readonly feeds = new Map<string, FeedState>()
  private replica: Replica | undefined
  private awareness: NatsAwareness | undefined
  private nc: NatsConnection | undefined
  private js: JetStreamClient | undefined
  private snapshots: SnapshotBucket | undefined
  private isConnected = false
  /** Until then, a load waits for the first connection (a relay just started should not serve a stale copy). */
  private startupGraceEnds = 0
  private readonly connectedWaiters = new Set<() => void>()
  private closed = false
  private readonly timers: Array<ReturnType<typeof setInterval>> = []

  constructor(options: NatsClusterOptions, inner: Store, ledger: ClusterLedger, log: Logger) {
    this.options = { ...NATS_DEFAULTS, ...definedOnly(options), servers: options.servers }
    this.inner = inner
    this.ledger = ledger
    this.log = log.child({ component: 'nats' })
    // Replaced by attach(): until then (and in tests without a relay) a registry of its own.
    this.metrics = new NatsMetrics(new Registry())
    this.subjects = new ClusterSubjects(this.options.subjectPrefix)
    this.publisher = new NatsPublisher(
      {
        isConnected: () => this.isConnected,
        publish: (doc, update) => this.publish(doc, update),
        load: (doc) => this.inner.load(doc),
        reportError: (err, context) => this.reportError(err, context),
      },
      ledger,
      this.metrics,
      this.options.retryInterval,
    )
  }

  /** Connected to NATS, with the stream and bucket in place. */
  get connected(): boolean {
    return this.isConnected
  }

  /** Documents with updates JetStream has not acknowledged. */
  get unpublished(): number {
    return this.publisher.unpublished
  }

  /** Reads the ledger and starts connecting; never waits for NATS (a relay serves without it). */
  async start(): Promise<void> {
    await this.publisher.restore()
    this.startupGraceEnds = Date.now() + this.options.catchupTimeout
    void this.connectLoop()
    this.timers.push(setInterval(() => void this.flushSequences(), LEDGER_FLUSH_INTERVAL))
    this.timers.push(setInterval(() => this.sweepFeeds(), FEED_SWEEP_INTERVAL))
    for (const t of this.timers) t.unref?.()
  }

  /** Connects the relay's replica (live updates and presence go through it) and its metrics registry. */
  attach(replica: Replica, registry: Registry): void {
    this.replica = replica
    this.metrics = new NatsMetrics(registry)
    this.publisher.metrics = this.metrics
    this.awareness = new NatsAwareness(replica, this.subjects, this.metrics, (err, context) =>
      this.reportError(err, context),
    )
    if (this.nc !== undefined) this.awareness.connected(this.nc)
  }

  /** The observer hooks the cluster needs (documents loaded and unloaded). */
  observer(): ReplicaObserver {
    return {
      docLoaded: (doc) => this.awareness?.docLoaded(doc),
      docUnloaded: (doc) => {
        this.awareness?.docUnloaded(doc)
        this.trackStop(this.stopFeed(doc))
      },
    }
  }

  /** The replica's saved gate: in 'replicated' mode, saved waits for JetStream. */
  savedGate(): ((doc: string, update: Uint8Array) => Promise<void> | undefined) | undefined {
    if (this.options.saved !== 'replicated') return undefined
    return (doc, update) => this.publisher.whenPublished(doc, update)
  }

  // --- the store wrapper's side ----------------------------------------------------

  /** Appends locally; updates that did not come from the stream are then published. */
  append(doc: string, update: Uint8Array, meta?: AppendMeta): Promise<void> {
    if (this.fromCluster.has(update)) return this.inner.append(doc, update, meta)
    return this.publisher.append(doc, update, () => this.inner.append(doc, update, meta))
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
      this.metrics.feeds.set(this.feeds.size)
      state.ready = this.startFeed(doc, state)
    }
    return state.ready
  }

  /** A document was deleted here: forget its feed and ledger entry. */
  async forget(doc: string): Promise<void> {
    await this.stopFeed(doc)
    await this.ledger.setSequence(doc, 0).catch(() => undefined)
  }

  // --- catch-up and live feeds -------------------------------------------------------

  private async startFeed(doc: string, state: FeedState): Promise<void> {
    const started = performance.now()
    try {
      state.seq = state.savedSeq = await this.ledger.sequence(doc)
      if (!this.isConnected && Date.now() < this.startupGraceEnds)
        await this.whenConnected(this.startupGraceEnds - Date.now())
      if (this.isConnected && this.snapshots !== undefined) {
        const snapshot = await withTimeout(this.snapshots.get(doc), this.options.catchupTimeout).catch((err) => {
          this.reportError(err, `reading the snapshot of ${doc}`)
          return undefined
        })
        if (snapshot !== undefined && snapshot.seq > state.seq) {
          this.fromCluster.add(snapshot.state)
          await this.inner.append(doc, snapshot.state)
          state.seq = snapshot.seq
          this.metrics.snapshots.loaded.inc()
        }
      }
      const feed = new DocFeed({
        js: () => this.js,
        connected: () => this.isConnected,
        stream: this.options.stream,
        subject: this.subjects.updates(doc),
        after: state.seq,
        apply: (update, seq, publishedAt) => this.applyFromStream(doc, state, update, seq, publishedAt),
        restarted: (reason) => {
          this.metrics.consume.feedRestarts.inc()
          this.log.warn({ doc, reason }, 'restarting a stream consumer that stopped answering')
        },
        readBySequence: (count) => this.metrics.consume.sequenceReads.inc(count),
        reportError: (err, context) => this.reportError(err, context),
      })
      state.feed = feed
      if (this.isConnected) {
        const done = await withTimeout(
          feed.caughtUp.then(() => true),
          this.options.catchupTimeout,
        ).catch(() => false)
        if (!done) this.metrics.catchup.timeouts.inc()
      }
    } catch (err) {
      this.reportError(err, `catching up ${doc}`)
    } finally {
      // From here on the document may be in memory: updates go through the replica.
      state.live = true
      state.liveSince = Date.now()
      await state.feed?.drained()
      this.metrics.catchup.seconds.observe((performance.now() - started) / 1000)
    }
  }

  private async applyFromStream(
    doc: string,
    state: FeedState,
    update: Uint8Array,
    seq: number,
    publishedAt: number,
  ): Promise<void> {
    this.fromCluster.add(update)
    try {
      // Live: through the replica, which persists, applies and forwards it (it loads the
      // document if a cold read started this feed, or waits for the load under way).
      if (state.live && !state.stopped && this.replica !== undefined) await this.replica.applyUpdate(doc, update)
      else await this.inner.append(doc, update)
    } catch (err) {
      this.metrics.consume.errors.inc()
      throw err
    }
    if (!state.live) this.metrics.catchup.updates.inc()
    this.metrics.consume.applied.inc()
    this.metrics.consume.lagSeconds.observe(Math.max(0, Date.now() - publishedAt) / 1000)
    state.seq = seq
    if (++state.sinceSnapshot >= this.options.snapshotEvery) void this.writeSnapshot(doc, state)
  }

  /** Feed stops in progress: close() waits for them (their snapshot and ledger writes). */
  private readonly stopping = new Set<Promise<void>>()

  private trackStop(p: Promise<void>): void {
    this.stopping.add(p)
    void p.finally(() => this.stopping.delete(p))
  }

  private async stopFeed(doc: string): Promise<void> {
    const state = this.feeds.get(doc)
    if (state === undefined) return
    state.stopped = true
    this.feeds.delete(doc)
    this.metrics.feeds.set(this.feeds.size)
    await state.ready
    await withTimeout(state.feed?.stop() ?? Promise.resolve(), this.options.publishTimeout).catch((err) =>
      this.reportError(err, `stopping the feed of ${doc}`),
    )
    if (state.sinceSnapshot > 0) await this.writeSnapshot(doc, state)
    await this.flushSequence(doc, state)
  }

  /** Stops the feeds of documents that are no longer in memory (read cold, by the admin API say). */
  private sweepFeeds(): void {
    const replica = this.replica
    if (replica === undefined) return
    const now = Date.now()
    for (const [doc, state] of this.feeds) {
      const settled = state.live && now - state.liveSince > FEED_SWEEP_INTERVAL
      if (settled && replica.loadedDoc(doc) === undefined) this.trackStop(this.stopFeed(doc))
    }
  }

  private async writeSnapshot(doc: string, state: FeedState): Promise<void> {
    const bucket = this.snapshots
    if (bucket === undefined || !this.isConnected || state.snapshotting || state.seq === 0) return
    state.snapshotting = true
    try {
      await state.feed?.drained()
      const seq = state.seq
      const whole =
        this.replica?.loadedDoc(doc) !== undefined ? await this.replica.encodeState(doc) : await this.inner.load(doc)
      if (whole === undefined) return
      if (await bucket.put(doc, { seq, state: whole })) this.metrics.snapshots.written.inc()
      state.sinceSnapshot = 0
    } catch (err) {
      this.reportError(err, `writing the snapshot of ${doc}`)
    } finally {
      state.snapshotting = false
    }
  }

  private async flushSequence(doc: string, state: FeedState): Promise<void> {
    if (state.seq === state.savedSeq) return
    const seq = state.seq
    try {
      await this.ledger.setSequence(doc, seq)
      state.savedSeq = seq
    } catch (err) {
      this.reportError(err, `recording the stream position of ${doc}`)
    }
  }

  private async flushSequences(): Promise<void> {
    for (const [doc, state] of this.feeds) await this.flushSequence(doc, state)
  }

  // --- the connection ------------------------------------------------------------------

  private async connectLoop(): Promise<void> {
    try {
      const nc = await connect(natsConnectionOptions(this.options, `converge-relay-${this.replica?.peerId ?? ''}`))
      if (this.closed) {
        await nc.close()
        return
      }
      this.nc = nc
      this.log.info({ server: nc.getServer() }, 'connected to NATS')
      void this.watchStatus(nc)
      this.js = jetstream(nc, { timeout: this.options.publishTimeout })
      await this.setUp(nc)
      this.awareness?.connected(nc)
      this.setConnected(true)
    } catch (err) {
      if (!this.closed) this.log.error({ err }, 'NATS connection failed')
    }
  }

  /** Creates the stream and the bucket unless they exist; retried until it works. */
  private async setUp(nc: NatsConnection): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        this.snapshots = await ensureStreamAndBucket(nc, this.options, this.subjects)
        return
      } catch (err) {
        this.log.warn({ err: (err as Error).message, attempt }, 'setting up the JetStream stream and bucket')
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)))
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') {
        if (this.isConnected) this.log.warn('disconnected from NATS: serving local clients, buffering publishes')
        this.setConnected(false)
      } else if (s.type === 'reconnect') {
        this.log.info({ server: s.server }, 'reconnected to NATS')
        if (this.snapshots !== undefined) this.setConnected(true)
      }
    }
  }

  private setConnected(connected: boolean): void {
    this.isConnected = connected && !this.closed
    this.metrics.connected.set(this.isConnected ? 1 : 0)
    if (this.isConnected) {
      this.publisher.resume()
      for (const resolve of this.connectedWaiters) resolve()
      this.connectedWaiters.clear()
    }
  }

  /** Resolves once connected, or after `ms`. */
  private whenConnected(ms: number): Promise<void> {
    if (this.isConnected) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.connectedWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.connectedWaiters.add(done)
    })
  }

  private async publish(doc: string, update: Uint8Array): Promise<void> {
    const js = this.js
    if (js === undefined) throw new Error('not connected to NATS')
    const msgID = createHash('sha256').update(doc).update('\0').update(update).digest('base64url')
    await js.publish(this.subjects.updates(doc), update, { msgID, timeout: this.options.publishTimeout })
  }

  private reportError(err: unknown, context: string): void {
    if (this.closed) return
    this.log.warn({ err: (err as Error)?.message ?? String(err) }, context)
  }

  /** Stops the feeds (recording how far each got), the presence bridge and the connection. */
  async close(): Promise<void> {
    if (this.closed) return
    for (const t of this.timers) clearInterval(t)
    for (const doc of [...this.feeds.keys()]) this.trackStop(this.stopFeed(doc))
    await Promise.allSettled([...this.stopping])
    this.closed = true
    this.isConnected = false
    this.publisher.close()
    this.awareness?.close()
    await this.nc?.drain().catch(() => undefined)
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
