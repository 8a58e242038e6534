/**
 * Presence coalescing on a relay: awareness changes of one document are merged and go out
 * at most once per `delayMs`, as one update holding the latest state of every client that
 * changed, encoded once for all sessions (broadcast.ts). A relay's presence work then grows
 * with its readers, not readers × writers. A client joining or leaving (an added or removed
 * state) goes out without waiting for the window, with whatever was pending: at the end of
 * the event loop's turn, so the joins and leaves that arrive in one turn (a join storm) go
 * out as one update per session rather than one per join.
 */
import type { AwarenessChange } from './doc-awareness.js'
import { onNextTurn } from './next-turn.js'

/** Sends the current state of `clients`; `origin` is the one session they all came from, if one. */
export type PresenceFlush = (clients: number[], origin: unknown) => void

/** Marks a batch whose changes came from more than one origin: it goes to every session. */
const MIXED = Symbol('converge:mixed-origins')

export class AwarenessCoalescer {
  private readonly delayMs: () => number
  private readonly flush: PresenceFlush
  /** Clients whose latest state waits to go out; made when one does (a document's presence is mostly idle). */
  private pending: Set<number> | undefined
  private origin: unknown = undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  /** A flush at the end of this turn is scheduled (a join or leave is pending). */
  private turnFlush = false

  /** `delayMs`: the window, or what it is when a change arrives (doc-awareness.ts `presenceWindowMs`). */
  constructor(delayMs: number | (() => number), flush: PresenceFlush) {
    this.delayMs = typeof delayMs === 'number' ? () => delayMs : delayMs
    this.flush = flush
  }

  /** Clients whose latest state waits to go out. */
  get pendingClients(): number {
    return this.pending?.size ?? 0
  }

  /** Takes one awareness 'update' event (from `origin`). */
  change(change: AwarenessChange, origin: unknown): void {
    if (this.pending === undefined) {
      this.pending = new Set()
      this.origin = origin
    } else if (this.origin !== origin) this.origin = MIXED
    for (const c of change.added) this.pending.add(c)
    for (const c of change.updated) this.pending.add(c)
    for (const c of change.removed) this.pending.add(c)
    const delayMs = this.delayMs()
    if (delayMs <= 0) {
      this.flushNow()
      return
    }
    if (change.added.length > 0 || change.removed.length > 0) {
      if (!this.turnFlush) {
        this.turnFlush = true
        onNextTurn(() => {
          this.turnFlush = false
          this.flushNow()
        })
      }
      return
    }
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flushNow(), delayMs)
      ;(this.timer as { unref?: () => void }).unref?.()
    }
  }

  /** Sends what is pending now. */
  flushNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const pending = this.pending
    if (pending === undefined || pending.size === 0) {
      this.pending = undefined
      return
    }
    const clients = [...pending]
    const origin = this.origin === MIXED ? undefined : this.origin
    this.pending = undefined
    this.origin = undefined
    this.flush(clients, origin)
  }

  /** Drops what is pending (the document is unloading). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.pending = undefined
    this.origin = undefined
  }
}
