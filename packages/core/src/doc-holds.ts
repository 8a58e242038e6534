/**
 * Who keeps a document in memory: the app's opens, the sessions that need it loaded, and
 * the writes in flight. When the last holder lets go, the document is released after the
 * role's delay (a relay keeps it `unloadDelay` ms for the next client; a client drops it
 * at once); a new holder in the meantime cancels the release. This is its one release path.
 */
export class DocHolds {
  private readonly holders = new Set<unknown>()
  /** The writes and loads in flight (they hold the document until they settle). */
  private readonly work = new Set<Promise<unknown>>()
  private readonly delay: number
  private readonly release: () => void
  private timer: ReturnType<typeof setTimeout> | undefined
  private stopped = false

  constructor(delay: number, release: () => void) {
    this.delay = delay
    this.release = release
    this.arm()
  }

  get held(): boolean {
    return this.holders.size > 0
  }

  hold(holder: unknown): void {
    if (this.stopped) return
    this.holders.add(holder)
    this.disarm()
  }

  /** `holder` lets go; nothing happens if it held nothing. */
  let(holder: unknown): void {
    if (this.holders.delete(holder) && this.holders.size === 0) this.arm()
  }

  /** Holds `holder` while `keep` is true: for holders whose need changes (a session mid-exchange). */
  holdWhile(holder: unknown, keep: boolean): void {
    if (keep) this.hold(holder)
    else this.let(holder)
  }

  /** Holds the document while `p` runs (a write or a load); `settled` waits for it, even after `stop`. */
  track<T>(p: Promise<T>): Promise<T> {
    this.work.add(p)
    this.hold(p)
    const done = () => {
      this.work.delete(p)
      this.let(p)
    }
    p.then(done, done)
    return p
  }

  /** Resolves when no write or load tracked so far is still running. */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work])
  }

  /** The document is gone: no release will follow. */
  stop(): void {
    this.stopped = true
    this.disarm()
    this.holders.clear()
  }

  private arm(): void {
    if (this.stopped) return
    this.disarm()
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.holders.size === 0 && !this.stopped) this.release()
    }, this.delay)
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
