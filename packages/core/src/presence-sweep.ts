/**
 * One timer for the presence of every document of a replica (a relay): every
 * `outdatedTimeout / 10` (3 s) it removes the states not renewed for `outdatedTimeout`
 * (30 s), as each y-protocols Awareness's own interval does for its document. A state
 * thus goes 30 to 33 s after its last renewal, with origin 'timeout'. Stock clients renew
 * theirs every 15 s. The timer runs while some document's presence exists and does not
 * keep the process alive.
 */
import { outdatedTimeout } from 'y-protocols/awareness'

/** What the sweep asks of a document's presence. */
export interface Outdating {
  /** Removes the states last renewed `timeoutMs` or more before `now` (ms since the epoch). */
  sweep(now: number, timeoutMs: number): void
}

/** Ms between two sweeps, as y-protocols' Awareness checks (outdatedTimeout / 10). */
export const PRESENCE_SWEEP_MS = Math.floor(outdatedTimeout / 10)

export class PresenceSweep {
  private readonly swept = new Set<Outdating>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly intervalMs = PRESENCE_SWEEP_MS,
    private readonly timeoutMs = outdatedTimeout,
  ) {}

  /** Number of presences swept. */
  get size(): number {
    return this.swept.size
  }

  add(presence: Outdating): void {
    this.swept.add(presence)
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.sweepNow(), this.intervalMs)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  delete(presence: Outdating): void {
    this.swept.delete(presence)
    if (this.swept.size > 0 || this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Removes every outdated state now (the timer does this every `intervalMs`). */
  sweepNow(): void {
    const now = Date.now()
    for (const presence of this.swept) presence.sweep(now, this.timeoutMs)
  }
}
