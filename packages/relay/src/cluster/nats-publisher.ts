import type { ClusterLedger } from './cluster-ledger.js'
import type { NatsMetrics } from './nats-metrics.js'

/** What the publisher needs from the NATS connection. */
export interface PublishChannel {
  /** Connected now (publishing is worth trying). */
  isConnected(): boolean
  /** Publishes one update of `doc`; resolves once JetStream acknowledged it. */
  publish(doc: string, update: Uint8Array): Promise<void>
  /** The document's whole stored state (republished after a failure). */
  load(doc: string): Promise<Uint8Array | undefined>
  reportError(err: unknown, context: string): void
}

/** Per document: appends numbered in call order, and how far JetStream acknowledged them. */
interface DocState {
  /** Appends numbered from 1 in call order. */
  appended: number
  /** The highest number whose local append resolved. */
  stored: number
  /** Every append numbered up to this is acknowledged by JetStream. */
  safeThrough: number
  /** Acknowledged numbers above safeThrough. */
  readonly done: Set<number>
  waiters: Array<{ n: number; resolve: () => void }>
  /** A publish failed or was skipped: the whole state goes out again. */
  resync: boolean
  /** The ledger marks this document unpublished (or a mark is being written). */
  marked: boolean
  /** The ledger writes of this document, in order. */
  ledgerOps: Promise<void>
  resyncing: boolean
}

/**
 * Publishes every durable update of this relay to JetStream and knows, per document, what
 * JetStream has acknowledged. While NATS is away nothing queues in memory: the document is
 * marked unpublished in the ledger (persisted before its first unacknowledged append
 * resolves), and its whole state is published once NATS is back. So the buffer is one
 * mark per document, bounded and crash-safe.
 */
export class NatsPublisher {
  private readonly docs = new Map<string, DocState>()
  private readonly numbers = new WeakMap<Uint8Array, { state: DocState; n: number }>()
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private closed = false

  constructor(
    private readonly channel: PublishChannel,
    private readonly ledger: ClusterLedger,
    public metrics: NatsMetrics,
    private readonly retryInterval: number,
  ) {}

  /** Picks up the documents a previous run left unpublished. */
  async restore(): Promise<void> {
    for (const doc of await this.ledger.unpublished()) {
      const state = this.stateOf(doc)
      state.marked = true
      state.resync = true
    }
    this.updateGauge()
  }

  /**
   * Wraps one local append: the unpublished mark is durable with it, and once it resolved
   * the update is published.
   */
  async append(doc: string, update: Uint8Array, appendLocally: () => Promise<void>): Promise<void> {
    const state = this.stateOf(doc)
    const n = ++state.appended
    this.numbers.set(update, { state, n })
    const mark = this.ensureMarked(doc, state)
    try {
      await Promise.all([appendLocally(), mark])
    } catch (err) {
      // Not stored: nothing to publish, and nobody is told it is saved.
      this.settle(doc, state, n)
      throw err
    }
    if (n > state.stored) state.stored = n
    this.publishOne(doc, state, update, n)
  }

  /**
   * Resolves once `update` (already durable here) is acknowledged by JetStream; for an
   * update this relay did not append (a duplicate), once everything appended so far is.
   * Undefined when that is already so.
   */
  whenPublished(doc: string, update: Uint8Array): Promise<void> | undefined {
    const known = this.numbers.get(update)
    const state = known?.state ?? this.docs.get(doc)
    if (state === undefined) return undefined
    const n = known?.n ?? state.appended
    if (state.safeThrough >= n) return undefined
    return new Promise((resolve) => state.waiters.push({ n, resolve }))
  }

  /** NATS is (back) up: republish every document whose updates were not acknowledged. */
  resume(): void {
    for (const [doc, state] of this.docs) if (state.resync) void this.resync(doc, state)
  }

  close(): void {
    this.closed = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
  }

  /** Documents whose updates JetStream has not all acknowledged. */
  get unpublished(): number {
    let count = 0
    for (const state of this.docs.values()) if (state.safeThrough < state.appended || state.resync) count++
    return count
  }

  private stateOf(doc: string): DocState {
    let state = this.docs.get(doc)
    if (state === undefined) {
      state = {
        appended: 0,
        stored: 0,
        safeThrough: 0,
        done: new Set(),
        waiters: [],
        resync: false,
        marked: false,
        ledgerOps: Promise.resolve(),
        resyncing: false,
      }
      this.docs.set(doc, state)
    }
    return state
  }

  private ensureMarked(doc: string, state: DocState): Promise<void> {
    if (!state.marked) {
      state.marked = true
      state.ledgerOps = state.ledgerOps.then(() => this.ledger.markUnpublished(doc))
      // Later appends wait on the mark; a failed mark fails only the append that wrote it.
      const mark = state.ledgerOps
      state.ledgerOps = mark.catch(() => {
        state.marked = false
      })
      return mark
    }
    return state.ledgerOps
  }

  private publishOne(doc: string, state: DocState, update: Uint8Array, n: number): void {
    if (state.resync || !this.channel.isConnected()) {
      this.needResync(doc, state)
      return
    }
    const started = performance.now()
    this.metrics.publish.pending.inc()
    this.channel.publish(doc, update).then(
      () => {
        this.metrics.publish.pending.dec()
        this.metrics.publish.acked.inc()
        this.metrics.publish.ackSeconds.observe((performance.now() - started) / 1000)
        this.settle(doc, state, n)
      },
      (err) => {
        this.metrics.publish.pending.dec()
        this.metrics.publish.errors.inc()
        this.channel.reportError(err, `publishing an update of ${doc}`)
        this.needResync(doc, state)
      },
    )
  }

  private needResync(doc: string, state: DocState): void {
    state.resync = true
    this.updateGauge()
    if (this.channel.isConnected()) void this.resync(doc, state)
  }

  /** Publishes the whole stored state: it covers every append stored so far. */
  private async resync(doc: string, state: DocState): Promise<void> {
    if (state.resyncing || this.closed) return
    state.resyncing = true
    state.resync = false
    const covers = state.stored
    try {
      const whole = await this.channel.load(doc)
      if (whole !== undefined) await this.channel.publish(doc, whole)
      this.metrics.publish.republished.inc()
      state.resyncing = false
      this.settleThrough(doc, state, covers)
    } catch (err) {
      state.resyncing = false
      this.metrics.publish.errors.inc()
      this.channel.reportError(err, `republishing ${doc}`)
      state.resync = true
      this.scheduleRetry()
    }
    if (state.resync && this.channel.isConnected()) this.scheduleRetry()
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (this.channel.isConnected()) this.resume()
      else if (this.unpublished > 0) this.scheduleRetry()
    }, this.retryInterval)
    this.retryTimer.unref?.()
  }

  private settle(doc: string, state: DocState, n: number): void {
    state.done.add(n)
    while (state.done.delete(state.safeThrough + 1)) state.safeThrough++
    this.afterProgress(doc, state)
  }

  private settleThrough(doc: string, state: DocState, n: number): void {
    if (n > state.safeThrough) state.safeThrough = n
    for (const d of state.done) if (d <= state.safeThrough) state.done.delete(d)
    while (state.done.delete(state.safeThrough + 1)) state.safeThrough++
    this.afterProgress(doc, state)
  }

  private afterProgress(doc: string, state: DocState): void {
    const ready = state.waiters.filter((w) => w.n <= state.safeThrough)
    if (ready.length > 0) {
      state.waiters = state.waiters.filter((w) => w.n > state.safeThrough)
      for (const w of ready) w.resolve()
    }
    if (state.safeThrough >= state.appended && !state.resync && !state.resyncing && state.marked) {
      state.marked = false
      state.ledgerOps = state.ledgerOps
        .then(() => this.ledger.clearUnpublished(doc))
        .catch((err) => this.channel.reportError(err, `clearing the unpublished mark of ${doc}`))
    }
    this.updateGauge()
  }

  private updateGauge(): void {
    this.metrics.publish.unpublishedDocs.set(this.unpublished)
  }
}
