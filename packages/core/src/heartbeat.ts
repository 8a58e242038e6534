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
    this.timer = setInterval(() => this.beat(timeout), interval)
    unref(this.timer)
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private beat(timeoutOf: () => number): void {
    const timeout = timeoutOf()
    if (this.hooks.paused()) this.lastReceived = Date.now()
    if (Date.now() - this.lastReceived > timeout) {
      this.hooks.timedOut(timeout)
      return
    }
    this.hooks.ping()
  }
}
