import { backoffDelay } from '@converge/core'
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream'

/** Most updates a feed has started applying before it waits for them to finish. */
const MAX_INFLIGHT = 512

/**
 * Applies one update from the stream. A feed calls it in stream order without waiting for
 * the previous call: the call must start its store append synchronously.
 */
export type FeedApply = (update: Uint8Array, seq: number, publishedAt: number) => Promise<void>

export interface DocFeedOptions {
  /** The JetStream client, once connected. */
  js: () => JetStreamClient | undefined
  stream: string
  subject: string
  /** The stream sequence the local copy already holds: delivery starts after it. */
  after: number
  apply: FeedApply
  reportError: (err: unknown, context: string) => void
}

/**
 * The live stream of one document's updates: an ordered, ephemeral consumer (one filter
 * subject, as nats-server 2.9 allows) from the sequence the local copy reaches. It is
 * recreated after errors and outages, each time from the last sequence it delivered, so
 * nothing is skipped and nothing needs acknowledging.
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
   * The client library recreates an ordered consumer it finds gone, but one whose only
   * replica sat on a NATS node that died is neither gone nor answering: after two missed
   * heartbeats, end this consumer, and run() starts a fresh one after the last sequence.
   */
  private async watch(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        const lost =
          (s.type === 'heartbeats_missed' && s.count >= 2) ||
          s.type === 'consumer_not_found' ||
          s.type === 'consumer_deleted' ||
          s.type === 'stream_not_found'
        if (lost && !this.stopped) {
          await messages.close().catch(() => undefined)
          return
        }
      }
    } catch {
      // The consumer ended: run() handles it.
    }
  }

  private async run(): Promise<void> {
    let attempt = 0
    while (!this.stopped) {
      try {
        const js = this.options.js()
        if (js === undefined) throw new Error('not connected to NATS yet')
        const consumer = await js.consumers.get(this.options.stream, {
          filter_subjects: this.options.subject,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.lastSeq + 1,
        })
        if ((await consumer.info(true)).num_pending === 0) this.markCaughtUp()
        // Heartbeats every second: a consumer lost with its NATS node is noticed (two missed)
        // and recreated from the last delivered sequence within seconds.
        const messages = await consumer.consume({ max_messages: 256, expires: 10_000, idle_heartbeat: 1_000 })
        this.messages = messages
        if (this.stopped) break
        attempt = 0
        void this.watch(messages)
        for await (const m of messages) {
          const { seq, data } = m
          if (seq <= this.lastSeq) continue
          this.lastSeq = seq
          const publishedAt = m.info.timestampNanos / 1e6
          const last = m.info.pending === 0
          // Started now, in stream order (the store keeps the order of appends), so a run of
          // updates shares one store batch; finished in order too.
          const applied = this.options
            .apply(data, seq, publishedAt)
            .catch((err) => this.options.reportError(err, `applying update ${seq} of ${this.options.subject}`))
          this.chain = this.chain.then(() => applied)
          if (last) this.chain.then(() => this.markCaughtUp())
          if (++this.inflight >= MAX_INFLIGHT) {
            await this.chain
            this.inflight = 0
          }
        }
      } catch (err) {
        if (!this.stopped) this.options.reportError(err, `consuming ${this.options.subject}`)
      }
      if (this.stopped) break
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt++)))
    }
    await this.messages?.close().catch(() => undefined)
  }
}
