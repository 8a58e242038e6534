import { type AppendMeta, definedOnly, type Replica, type ReplicaObserver, type Store } from '@converge/core'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { ClusterConnection } from './cluster-connection.js'
import type { ClusterLedger } from './cluster-ledger.js'
import { NatsAwareness } from './nats-awareness.js'
import { DocFeeds } from './nats-doc-feeds.js'
import { NatsMetrics } from './nats-metrics.js'
import { NATS_DEFAULTS, type NatsClusterOptions, type ResolvedNatsOptions } from './nats-options.js'
import { NatsPublisher } from './nats-publisher.js'
import { ClusterSubjects } from './nats-subjects.js'

/**
 * A relay's membership in a cluster on NATS JetStream. It publishes every update made
 * durable here (from this relay's clients) to `<prefix>.doc.<doc>` in one stream, keeps a
 * live ordered consumer for each document this relay has loaded (DocFeeds), catches a
 * document up from the stream (and the snapshot bucket) before it loads, and bridges
 * presence over core NATS. It plugs into the relay as a Store wrapper (see ClusterStore), a
 * ReplicaObserver (documents loaded and unloaded) and a saved gate.
 */
export class NatsCluster {
  readonly options: ResolvedNatsOptions
  /** The cluster's metrics, on the relay's registry (see attach). */
  metrics: NatsMetrics
  readonly subjects: ClusterSubjects
  private readonly inner: Store
  private readonly log: Logger
  private readonly connection: ClusterConnection
  private readonly publisher: NatsPublisher
  private readonly feeds: DocFeeds
  /** Updates that came from the stream: the store wrapper never publishes them again. */
  private readonly fromCluster = new WeakSet<Uint8Array>()
  private replica: Replica | undefined
  private awareness: NatsAwareness | undefined

  constructor(options: NatsClusterOptions, inner: Store, ledger: ClusterLedger, log: Logger) {
    this.options = { ...NATS_DEFAULTS, ...definedOnly(options), servers: options.servers }
    this.inner = inner
    this.log = log.child({ component: 'nats' })
    // Replaced by attach(): until then (and in tests without a relay) a registry of its own.
    this.metrics = new NatsMetrics(new Registry())
    this.subjects = new ClusterSubjects(this.options.subjectPrefix)
    this.connection = new ClusterConnection(this.options, this.subjects, this.log, {
      name: () => `converge-relay-${this.replica?.peerId ?? ''}`,
      opened: (nc) => this.awareness?.connected(nc),
      changed: (connected) => {
        this.metrics.connected.set(connected ? 1 : 0)
        if (connected) this.publisher.resume()
      },
    })
    this.publisher = new NatsPublisher(
      {
        isConnected: () => this.connection.connected,
        publish: (doc, update) => this.connection.publish(doc, update),
        load: (doc) => this.inner.load(doc),
        reportError: (err, context) => this.reportError(err, context),
      },
      ledger,
      this.metrics,
      this.options.retryInterval,
    )
    this.feeds = new DocFeeds({
      options: this.options,
      subjects: this.subjects,
      connection: this.connection,
      ledger,
      inner,
      fromCluster: this.fromCluster,
      replica: () => this.replica,
      metrics: () => this.metrics,
      log: this.log,
      reportError: (err, context) => this.reportError(err, context),
    })
  }

  /** Connected to NATS, with the stream and bucket in place. */
  get connected(): boolean {
    return this.connection.connected
  }

  /** Documents with updates JetStream has not acknowledged. */
  get unpublished(): number {
    return this.publisher.unpublished
  }

  /** Reads the ledger and starts connecting; never waits for NATS (a relay serves without it). */
  async start(): Promise<void> {
    await this.publisher.restore()
    this.connection.start()
    this.feeds.start()
  }

  /** Connects the relay's replica (live updates and presence go through it) and its metrics registry. */
  attach(replica: Replica, registry: Registry): void {
    this.replica = replica
    this.metrics = new NatsMetrics(registry)
    this.publisher.metrics = this.metrics
    this.awareness = new NatsAwareness(replica, this.subjects, this.metrics, (err, context) =>
      this.reportError(err, context),
    )
    const nc = this.connection.connection
    if (nc !== undefined) this.awareness.connected(nc)
  }

  /** The observer hooks the cluster needs (documents loaded and unloaded). */
  observer(): ReplicaObserver {
    return {
      docLoaded: (doc) => this.awareness?.docLoaded(doc),
      docUnloaded: (doc) => {
        this.awareness?.docUnloaded(doc)
        this.feeds.release(doc)
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
    return this.feeds.catchUp(doc)
  }

  /** A document was deleted here: forget its feed and ledger entry. */
  forget(doc: string): Promise<void> {
    return this.feeds.forget(doc)
  }

  private reportError(err: unknown, context: string): void {
    if (this.connection.closed) return
    this.log.warn({ err: (err as Error)?.message ?? String(err) }, context)
  }

  /** Stops the feeds (recording how far each got), the presence bridge and the connection. */
  async close(): Promise<void> {
    if (this.connection.closed) return
    await this.feeds.close()
    this.publisher.close()
    this.awareness?.close()
    await this.connection.close()
  }
}
