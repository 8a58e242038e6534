import { CloseCode } from './close-codes.js'
import { RateLimiter } from './rate-limiter.js'

/**
 * Flow control of what a connection sends us: budgets of work in flight (received, not yet
 * durable and forwarded) per connection and per document, and a pacing rate. Past a
 * budget the connection stops being read (Transport.pause), so TCP slows the sender; it is
 * read again once its work drained to half the budget. Only a sender that keeps going past
 * a hard ceiling, which pausing prevents for any stock client, is closed, with a transient
 * code it retries on. Every default is here, once; PeerOptions extends these.
 */
export interface FlowOptions {
  /** Bytes of received updates one connection may have in flight before it is paused. Default 8 MiB. */
  maxInFlightBytes?: number
  /** Received messages one connection may have in flight before it is paused. Default 4_096. */
  maxInFlightMessages?: number
  /** Bytes of received updates in flight for one document, all connections together. Default 32 MiB. */
  maxDocInFlightBytes?: number
  /** Received messages in flight for one document, all connections together. Default 16_384. */
  maxDocInFlightMessages?: number
  /**
   * Hard ceiling, as a multiple of the connection budgets: an accepted client connection
   * with more in flight than this is closed with 1013 (try again later). A paused socket
   * delivers at most the rest of one TCP read, so only a transport that cannot pause gets
   * there. Default 4.
   */
  inFlightCeiling?: number
  /**
   * Pacing of accepted client connections, in messages per second: beyond the burst the
   * connection is paused until the bucket refills. Default 20_000; 0 turns pacing off.
   * Mesh links are exempt.
   */
  maxMessagesPerSecond?: number
  /**
   * Burst allowance of the pacing, in messages; a connection that runs more than this
   * beyond the bucket while paused is closed with 4529. Default 50_000.
   */
  messageBurst?: number
  /**
   * Slow readers: past this many bytes queued on a connection's socket, a relay stops
   * sending it individual updates and keeps, per document, the state vector it had
   * reached; when the queue drains to half, it sends one update per document (the diff
   * since then). Default 1 MiB.
   */
  slowReaderBytes?: number
  /** A connection with more bytes queued on its socket than this is closed with 1013. Default 64 MiB. */
  maxBufferedBytes?: number
  /**
   * Largest sync step 2 sent in one message from a loaded document: a larger diff (an
   * offline queue, a big document) goes as updates of about this size, each applying on
   * arrival, so no frame nears the receiver's maxMessageBytes and the receiver's flow
   * control paces them. Default 1 MiB.
   */
  maxSyncChunkBytes?: number
}

export const DEFAULT_FLOW_OPTIONS: Required<FlowOptions> = {
  maxInFlightBytes: 8 * 1024 * 1024,
  maxInFlightMessages: 4_096,
  maxDocInFlightBytes: 32 * 1024 * 1024,
  maxDocInFlightMessages: 16_384,
  inFlightCeiling: 4,
  maxMessagesPerSecond: 20_000,
  messageBurst: 50_000,
  slowReaderBytes: 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxSyncChunkBytes: 1024 * 1024,
}

/** What a ConnectionFlow does to its connection. */
export interface FlowTarget {
  /** Stop reading the connection (TCP then slows the sender). */
  pause(): void
  /** Read it again. */
  resume(): void
  /** Close it (a hard ceiling was passed) with a transient code. */
  close(code: number, reason: string, errorCode: 'CONVERGE_RATE_LIMITED' | 'CONVERGE_LIMIT_EXCEEDED'): void
  /** The ceilings apply now (accepted client connections, not mesh links). */
  limited(): boolean
  /** Told when the connection is paused (for metrics). */
  paused?(): void
  /** Told when it is read again, or closed while paused, after `ms` paused (for metrics). */
  resumed?(ms: number): void
}

/** Work in flight for one document, all connections together. */
class DocBudget {
  bytes = 0
  messages = 0
  readonly waiters = new Set<ConnectionFlow>()

  constructor(
    private readonly budgets: DocBudgets,
    readonly name: string,
  ) {}

  over(fraction: number, options: Required<FlowOptions>): boolean {
    return (
      this.bytes > options.maxDocInFlightBytes * fraction || this.messages > options.maxDocInFlightMessages * fraction
    )
  }

  release(bytes: number, options: Required<FlowOptions>): void {
    this.bytes -= bytes
    this.messages--
    if (this.waiters.size > 0 && !this.over(0.5, options)) {
      for (const w of [...this.waiters]) w.evaluate()
    }
    if (this.messages === 0 && this.waiters.size === 0) this.budgets.docs.delete(this.name)
  }
}

/** The per-document budgets of one replica, shared by its connections. */
class DocBudgets {
  readonly docs = new Map<string, DocBudget>()

  get(name: string): DocBudget {
    let budget = this.docs.get(name)
    if (budget === undefined) {
      budget = new DocBudget(this, name)
      this.docs.set(name, budget)
    }
    return budget
  }
}

const budgetsByHost = new WeakMap<object, DocBudgets>()

/** The document budgets shared by every connection of `host` (a replica). */
const docBudgetsOf = (host: object): DocBudgets => {
  let budgets = budgetsByHost.get(host)
  if (budgets === undefined) {
    budgets = new DocBudgets()
    budgetsByHost.set(host, budgets)
  }
  return budgets
}

/** Flow control of one connection (see FlowOptions). */
export class ConnectionFlow {
  /** Bytes and messages received on this connection and still in flight. */
  bytes = 0
  messages = 0
  /** The connection is paused (not read). */
  paused = false
  /**
   * For tests and metrics: times this connection was paused, the time it spent paused
   * before its current pause (ms), and when the current pause began (performance.now()).
   */
  readonly pauseStats = { pauses: 0, pausedMs: 0, since: 0 }

  private readonly options: Required<FlowOptions>
  private readonly docs: DocBudgets
  private readonly target: FlowTarget
  private readonly limiter: RateLimiter | undefined
  /** The documents over their budget that this connection waits on (made on the first). */
  private waitingOn: Set<DocBudget> | undefined
  private rateTimer: ReturnType<typeof setTimeout> | undefined
  private closed = false

  /** `pace`: apply the message rate (accepted client connections). */
  constructor(host: object, options: Required<FlowOptions>, target: FlowTarget, pace: boolean) {
    this.options = options
    this.docs = docBudgetsOf(host)
    this.target = target
    this.limiter =
      pace && options.maxMessagesPerSecond > 0
        ? new RateLimiter(options.maxMessagesPerSecond, options.messageBurst)
        : undefined
  }

  /** A frame arrived. False when it closed the connection (far past the pacing). */
  received(): boolean {
    if (this.closed || this.limiter === undefined || !this.target.limited()) return true
    if (this.limiter.takeOrOwe() === 0) return true
    if (this.limiter.debt > this.options.messageBurst) {
      this.fail(
        CloseCode.rateLimited,
        `more than ${this.options.messageBurst} messages beyond ${this.options.maxMessagesPerSecond} per second`,
        'CONVERGE_RATE_LIMITED',
      )
      return false
    }
    this.evaluate()
    return true
  }

  /**
   * A received message of `bytes` for `doc` is in flight until `done` settles (durable
   * and forwarded, or refused).
   */
  track(doc: string, bytes: number, done: Promise<unknown>): void {
    const budget = this.docs.get(doc)
    this.bytes += bytes
    this.messages++
    budget.bytes += bytes
    budget.messages++
    const release = () => {
      this.bytes -= bytes
      this.messages--
      budget.release(bytes, this.options)
      this.evaluate()
    }
    done.then(release, release)
    if (budget.over(1, this.options)) {
      this.waitingOn ??= new Set()
      this.waitingOn.add(budget)
      budget.waiters.add(this)
    }
    if (this.overCeiling()) {
      this.fail(
        CloseCode.tryAgainLater,
        `more than ${this.options.inFlightCeiling} × the in-flight budget (the sender ignored flow control)`,
        'CONVERGE_LIMIT_EXCEEDED',
      )
      return
    }
    this.evaluate()
  }

  /** Pauses or resumes the connection as its budgets, its documents' budgets and its pacing say. */
  evaluate(): void {
    if (this.closed) return
    // Paused past a budget, read again at half of it: no pause and resume per message.
    const fraction = this.paused ? 0.5 : 1
    const blocked = this.overBudget(fraction) || this.docBlocked(fraction) || this.rateBlocked()
    if (blocked && !this.paused) {
      this.paused = true
      this.pauseStats.pauses++
      this.pauseStats.since = performance.now()
      this.target.pause()
      this.target.paused?.()
    } else if (!blocked && this.paused) {
      this.paused = false
      this.target.resume()
      this.endPause()
    }
  }

  private endPause(): void {
    const ms = performance.now() - this.pauseStats.since
    this.pauseStats.pausedMs += ms
    this.target.resumed?.(ms)
  }

  /** The connection is gone: stop timers and waiting. Work still in flight releases its budgets when done. */
  dispose(): void {
    if (this.closed) return
    this.closed = true
    if (this.paused) this.endPause()
    if (this.rateTimer !== undefined) clearTimeout(this.rateTimer)
    this.rateTimer = undefined
    for (const d of this.waitingOn ?? []) d.waiters.delete(this)
    this.waitingOn = undefined
  }

  private overBudget(fraction: number): boolean {
    return (
      this.bytes > this.options.maxInFlightBytes * fraction ||
      this.messages > this.options.maxInFlightMessages * fraction
    )
  }

  private overCeiling(): boolean {
    if (!this.target.limited()) return false
    const c = this.options.inFlightCeiling
    return (
      this.messages > 1 &&
      (this.bytes > this.options.maxInFlightBytes * c || this.messages > this.options.maxInFlightMessages * c)
    )
  }

  private docBlocked(fraction: number): boolean {
    let blocked = false
    if (this.waitingOn === undefined) return false
    for (const d of this.waitingOn) {
      if (d.over(fraction, this.options)) blocked = true
      else {
        this.waitingOn.delete(d)
        d.waiters.delete(this)
      }
    }
    if (this.waitingOn.size === 0) this.waitingOn = undefined
    return blocked
  }

  private rateBlocked(): boolean {
    const debt = this.limiter?.debt ?? 0
    if (debt <= 0) return false
    if (this.rateTimer === undefined) {
      const wait = Math.max(1, Math.ceil((debt / this.options.maxMessagesPerSecond) * 1000))
      this.rateTimer = setTimeout(() => {
        this.rateTimer = undefined
        this.evaluate()
      }, wait)
    }
    return true
  }

  private fail(code: number, reason: string, errorCode: 'CONVERGE_RATE_LIMITED' | 'CONVERGE_LIMIT_EXCEEDED'): void {
    this.dispose()
    this.target.close(code, reason, errorCode)
  }
}

/** The flow-control options set in `options` (a relay's or a peer's), the others left out. */
export const flowOptionsOf = (options: FlowOptions): FlowOptions => {
  const out: Record<string, number> = {}
  for (const key of Object.keys(DEFAULT_FLOW_OPTIONS) as Array<keyof FlowOptions>) {
    const value = options[key]
    if (value !== undefined) out[key] = value
  }
  return out
}
