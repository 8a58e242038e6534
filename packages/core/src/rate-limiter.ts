/**
 * A token bucket: `burst` messages at once, refilled at `perSecond`. A relay uses one per
 * accepted client connection to pace it: a message taken from an empty bucket puts the
 * bucket in debt, and the connection stops reading until the debt is paid back (see
 * flow-control.ts), so a flood of small frames cannot starve everyone else and an honest
 * burst is slowed instead of cut off.
 */
/** The default clock, one function for every limiter (one per connection on a relay). */
const performanceNow = (): number => performance.now()

export class RateLimiter {
  private tokens: number
  private last: number
  private readonly perSecond: number
  private readonly burst: number
  private readonly now: () => number

  constructor(perSecond: number, burst: number, now: () => number = performanceNow) {
    this.perSecond = perSecond
    this.burst = burst
    this.tokens = burst
    this.now = now
    this.last = now()
  }

  private refill(): void {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond)
    this.last = t
  }

  /** Takes one token; false (and nothing taken) when the bucket is empty. */
  take(): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /**
   * Takes one token even from an empty bucket (going into debt) and returns how long, in
   * ms, until the bucket holds a whole token again: 0 when none is owed.
   */
  takeOrOwe(): number {
    this.refill()
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)
  }

  /** Messages taken beyond the bucket that the refill has not paid back yet. */
  get debt(): number {
    this.refill()
    return Math.max(0, -this.tokens)
  }
}
