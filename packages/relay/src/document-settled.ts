/** How long a document must be quiet before it counts as settled, and the longest a busy one waits. */
export interface SettleOptions {
  /** Quiet time after the last change, in ms. Default 2_000. */
  settleDelay?: number
  /** Most time from the first unsettled change to a settle, however busy the document, in ms. Default 10_000. */
  settleMaxWait?: number
}

export const SETTLE_DEFAULTS = { settleDelay: 2_000, settleMaxWait: 10_000 }

interface Pending {
  first: number
  changes: number
  users: Set<string>
  timer: ReturnType<typeof setTimeout>
}

/** What one settle covers. */
export interface Settled {
  doc: string
  changes: number
  users: string[]
}

/**
 * Debounces changes per document: `settled` runs once a document had no change for
 * `settleDelay`, or `settleMaxWait` after its first unsettled change, whichever is first.
 */
export class SettleScheduler {
  private readonly pending = new Map<string, Pending>()
  private readonly options: typeof SETTLE_DEFAULTS
  private readonly settled: (s: Settled) => Promise<void>

  constructor(options: SettleOptions, settled: (s: Settled) => Promise<void>) {
    this.options = {
      settleDelay: options.settleDelay ?? SETTLE_DEFAULTS.settleDelay,
      settleMaxWait: options.settleMaxWait ?? SETTLE_DEFAULTS.settleMaxWait,
    }
    this.settled = settled
  }

  changed(doc: string, user: string | undefined): void {
    const now = Date.now()
    let p = this.pending.get(doc)
    if (p !== undefined) clearTimeout(p.timer)
    else p = { first: now, changes: 0, users: new Set(), timer: undefined as unknown as ReturnType<typeof setTimeout> }
    p.changes++
    if (user !== undefined) p.users.add(user)
    const due = Math.min(now + this.options.settleDelay, p.first + this.options.settleMaxWait)
    p.timer = setTimeout(() => void this.fire(doc), Math.max(0, due - now))
    this.pending.set(doc, p)
  }

  private fire(doc: string): Promise<void> {
    const p = this.pending.get(doc)
    if (p === undefined) return Promise.resolve()
    clearTimeout(p.timer)
    this.pending.delete(doc)
    return this.settled({ doc, changes: p.changes, users: [...p.users] })
  }

  /** Settles every pending document now (at shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((doc) => this.fire(doc)))
  }
}
