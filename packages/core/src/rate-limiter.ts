/**
 * A token bucket: `burst` messages at once, refilled at `perSecond`. A relay uses one per
 * accepted client connection so a flood of small frames cannot starve everyone else.
 */
export class RateLimiter {
  private tokens: number
  private last: number
  private readonly perSecond: number
  private readonly burst: number
  private readonly now: () => number

  constructor(perSecond: number, burst: number, now: () => number = () => performance.now()) {
    this.perSecond = perSecond
    this.burst = burst
    this.tokens = burst
    this.now = now
    this.last = now()
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond)
    this.last = t
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
