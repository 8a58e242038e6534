import { backoffDelay } from '@converge/core'
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, type MsgRequest } from '@nats-io/jetstream'

/** Most updates a feed has started applying before it waits for them to finish. */
const MAX_INFLIGHT = 512
/** The server's idle heartbeat on a feed's pull requests, in ms. */
const HEARTBEAT = 1_000
/**
 * A feed that saw neither a message nor a heartbeat for this long while connected is
 * stalled, in ms: its consumer is ended and a fresh one starts after the last sequence.
 */
const STALL_AFTER = 5 * HEARTBEAT
/** How often a feed waiting for the connection looks again, in ms. */
const CONNECTED_POLL = 250
/** Longest pause between two attempts at a consumer, in ms (updates are read by sequence meanwhile). */
const RETRY_MAX_DELAY = 1_000

/**
 * Applies one update from the stream. A feed calls it in stream order without waiting for
 * the previous call: the call must start its store append synchronously.
 */
export type FeedApply = (update: Uint8Array, seq: number, publishedAt: number) => Promise<void>

export interface DocFeedOptions {
  /** The JetStream client, once connected. */
  js: () => JetStreamClient | undefined
  /** Connected to NATS now (a feed waits for it rather than failing and backing off). */
  connected: () => boolean
  stream: string
  subject: string
  /** The stream sequence the local copy already holds: delivery starts after it. */
  after: number
  apply: FeedApply
  /** A consumer was ended because it stopped answering or was lost; a fresh one follows. */
  restarted: (reason: string) => void
  /** Updates were read by sequence because no consumer could be made. */
  readBySequence: (count: number) => void
  reportError: (err: unknown, context: string) => void
}

/**
 * The live stream of one document's updates: an ordered, ephemeral consumer (one filter
 * subject, as nats-server 2.9 allows) from the sequence the local copy reaches. It is
 * recreated after errors and outages, each time from the last sequence it delivered, so
 * nothing is skipped and nothing needs acknowledging.
 *
 * Such a consumer has one replica, on one NATS node, and that node may die. Two things
 * keep the feed going then:
 * - its own stall clock (see watch): a consumer that stopped answering is ended and made
 *   again, whatever the client library thinks of it;
 * - while no consumer can be made (nats-server 2.9 places a new one on a random node of the
 *   stream, dead ones included, until it notices), the feed reads the document's updates
 *   one by one by sequence from the stream leader, between attempts.
 */
export class DocFeed {
  /** The last stream sequence handed to `apply`. */
  lastSeq: number
  private readonly options: DocFeedOptions
  private stopped = false
  private messages: ConsumerMessages | undefined
  private chain: Promise<void> = Promise.resolve()
  /** Updates started since the feed last waited for the chain. */
  private inflight = 0
  /** When the feed last saw a message or a status from the server, or finished waiting on its own work (Date.now()). */
  private lastActivity = Date.now()
  /** Waiting for updates it handed out to finish: a slow store is not a stalled consumer. */
  private applying = false
  private caughtUpResolve: (() => void) | undefined
  /** Resolves once every update in the stream when the feed started is applied. */
  readonly caughtUp: Promise<void>

  constructor(options: DocFeedOptions) {
    this.options = options
    this.lastSeq = options.after
    this.caughtUp = new Promise((resolve) => {
      this.caughtUpResolve = resolve
    })
    void this.run()
  }

  /** Resolves once every update handed out so far is applied. */
  drained(): Promise<void> {
    return this.chain
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.caughtUpResolve?.()
    await this.messages?.close().catch(() => undefined)
    await this.chain
  }

  private markCaughtUp(): void {
    this.caughtUpResolve?.()
    this.caughtUpResolve = undefined
  }

  /**
   * Ends a consumer that stopped answering, so run() starts a fresh one after the last
   * sequence. The client library recreates an ordered consumer it finds gone, but not one
   * whose only replica sat on a NATS node that died: that consumer is neither gone nor
   * answering. If the relay's connection was on the same node, the library even stops its
   * heartbeat monitor on the disconnect and, once reconnected, asks for the dead consumer's
   * info again and again without a word. So the feed keeps its own clock: any message or
   * status (a heartbeat comes every second while a pull waits) is a sign of life, and none
   * for STALL_AFTER while connected ends the consumer. Two missed heartbeats, or the
   * consumer or stream reported gone, end it at once.
   */
  private async watch(messages: ConsumerMessages): Promise<void> {
    const end = (reason: string) => {
      if (this.stopped || messages !== this.messages) return
      this.options.restarted(reason)
      void messages.close().catch(() => undefined)
    }
    this.lastActivity = Date.now()
    const clock = setInterval(() => {
      const now = Date.now()
      // Time away from NATS, or spent applying updates, does not count.
      if (!this.options.connected() || this.applying) this.lastActivity = now
      else if (now - this.lastActivity > STALL_AFTER) end(`no message or heartbeat for ${now - this.lastActivity} ms`)
    }, HEARTBEAT)
    clock.unref?.()
    try {
      for await (const s of messages.status()) {
        this.lastActivity = Date.now()
        const lost =
          (s.type === 'heartbeats_missed' && s.count >= 2) ||
          s.type === 'consumer_not_found' ||
          s.type === 'consumer_deleted' ||
          s.type === 'stream_not_found'
        if (lost) end(s.type)
      }
    } catch {
      // The consumer ended: run() handles it.
    } finally {
      clearInterval(clock)
    }
  }

  /** Resolves once connected (or stopped). */
  private async untilConnected(): Promise<void> {
    while (!this.stopped && (!this.options.connected() || this.options.js() === undefined)) {
      await new Promise((resolve) => setTimeout(resolve, CONNECTED_POLL))
    }
  }

  /**
   * Hands one update to `apply`, in stream order: started now (the store keeps the order
   * of appends, so a run of updates shares one store batch), finished in order too.
   */
  private async deliver(data: Uint8Array, seq: number, publishedAt: number, last: boolean): Promise<void> {
    this.lastSeq = seq
    const applied = this.options
      .apply(data, seq, publishedAt)
      .catch((err) => this.options.reportError(err, `applying update ${seq} of ${this.options.subject}`))
    this.chain = this.chain.then(() => applied)
    if (last) this.chain.then(() => this.markCaughtUp())
    if (++this.inflight >= MAX_INFLIGHT) {
      this.applying = true
      await this.chain
      this.applying = false
      this.lastActivity = Date.now()
      this.inflight = 0
    }
  }

  /**
   * Reads the document's updates after the last sequence one at a time from the stream
   * (a request the stream leader answers, whichever node died), until there are none.
   */
  private async readBySequence(): Promise<void> {
    const js = this.options.js()
    if (js === undefined || !this.options.connected()) return
    const jsm = await js.jetstreamManager(false)
    let count = 0
    try {
      while (!this.stopped) {
        // nats-server 2.9 answers `next_by_subj` on the stream's get API too (the client
        // library types it for direct gets only): the first update of the document at or
        // after `seq`.
        const query = { seq: this.lastSeq + 1, next_by_subj: this.options.subject } as unknown as MsgRequest
        const m = await jsm.streams.getMessage(this.options.stream, query)
        if (m === null || m.seq <= this.lastSeq) {
          this.markCaughtUp()
          return
        }
        count++
        await this.deliver(m.data, m.seq, m.time.getTime(), false)
      }
    } finally {
      if (count > 0) this.options.readBySequence(count)
    }
  }

  private async run(): Promise<void> {
    let attempt = 0
    while (!this.stopped) {
      try {
        await this.untilConnected()
        const js = this.options.js()
        if (this.stopped || js === undefined) break
        const consumer = await js.consumers.get(this.options.stream, {
          filter_subjects: this.options.subject,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.lastSeq + 1,
        })
        if ((await consumer.info(true)).num_pending === 0) this.markCaughtUp()
        const messages = await consumer.consume({ max_messages: 256, expires: 10_000, idle_heartbeat: HEARTBEAT })
        this.messages = messages
        if (this.stopped) break
        attempt = 0
        void this.watch(messages)
        for await (const m of messages) {
          this.lastActivity = Date.now()
          if (m.seq <= this.lastSeq) continue
          await this.deliver(m.data, m.seq, m.info.timestampNanos / 1e6, m.info.pending === 0)
        }
      } catch (err) {
        if (!this.stopped) this.options.reportError(err, `consuming ${this.options.subject}`)
      }
      if (this.stopped) break
      // No consumer now (it could not be made, or it ended): what it would have delivered
      // is read by sequence before the next attempt.
      await this.readBySequence().catch((err) =>
        this.options.reportError(err, `reading ${this.options.subject} by sequence`),
      )
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt++, { maxDelay: RETRY_MAX_DELAY })))
    }
    await this.messages?.close().catch(() => undefined)
  }
}
