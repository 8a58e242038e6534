/** A link's liveness (link.ts): pings at an interval, and fails the link when nothing arrives in time. */
import { unref } from './link-timers.js'

export interface HeartbeatHooks {
  /** Flow control paused reading: silence is this side's, not the remote's. */
  paused(): boolean
  ping(): void
  /** Nothing arrived for `timeout` ms. */
  timedOut(timeout: number): void
}

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined
  private lastReceived = 0
  /** When the previous beat ran (0: none yet). */
  private lastBeat = 0
  private interval = 0
  private readonly hooks: HeartbeatHooks

  constructor(hooks: HeartbeatHooks) {
    this.hooks = hooks
  }

  /** Something arrived from the remote. */
  received(): void {
    this.lastReceived = Date.now()
  }

  /** Beats every `interval` ms (none if 0). */
  start(interval: number, timeout: () => number): void {
    if (interval <= 0) return
    this.interval = interval
    // Silence is counted from now (the link just opened: its hello arrived).
    this.lastReceived = Date.now()
    this.lastBeat = this.lastReceived
    this.timer = setInterval(() => this.beat(timeout), interval)
    unref(this.timer)
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private beat(timeoutOf: () => number): void {
    const timeout = timeoutOf()
    const now = Date.now()
    // A beat that comes late means this side's event loop was busy (a long computation, a
    // starved CPU): what the remote sent meanwhile may wait unread behind this timer, so
    // the delay is this side's silence, not the remote's.
    const late = now - this.lastBeat - this.interval
    if (late > 0) this.lastReceived = Math.min(now, this.lastReceived + late)
    this.lastBeat = now
    if (this.hooks.paused()) this.lastReceived = now
    if (now - this.lastReceived > timeout) {
      this.hooks.timedOut(timeout)
      return
    }
    this.hooks.ping()
  }
}
