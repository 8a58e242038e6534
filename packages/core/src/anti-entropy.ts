/**
 * One mesh link's anti-entropy: the inventory exchange (inventory.ts) and the syncing of
 * the documents that differ, a few at a time. The router owns one per link and decides
 * what the inventory holds and which documents may be synced.
 */
import { docsToSync, inventoryAnswer, summaryMessage } from './inventory.js'
import type { InventoryEntry, InventoryMessage, InventorySummaryMessage, Message } from './messages.js'

export interface AntiEntropyHooks {
  /** This side's inventory as the remote may see it. */
  inventory(): Promise<InventoryEntry[]>
  send(m: Message): void
  /**
   * Starts syncing `doc`: resolves when it synced (or its session ended); 'skip' when it
   * may not or cannot be synced; 'stop' when the link is no longer open.
   */
  sync(doc: string): Promise<void> | 'skip' | 'stop'
  /** Every differing document synced: `docs` of them. */
  done(docs: number): void
  reportError(err: unknown, context: string): void
  readonly concurrency: number
}

export class AntiEntropy {
  private readonly hooks: AntiEntropyHooks
  /** One inventory snapshot answers both rounds of one connection. */
  private snapshot: Promise<InventoryEntry[]> | undefined
  private remote: { bucketBits: number; buckets: number[]; entries: InventoryEntry[] } | undefined
  private queue: string[] = []
  private running = 0
  /** Documents of the current round, or -1 once reported (or before any). */
  private total = -1
  /** Bumped by reset: work started on an earlier connection finds it changed and stops. */
  private generation = 0

  constructor(hooks: AntiEntropyHooks) {
    this.hooks = hooks
  }

  /** The link opened: send our summary. */
  start(): void {
    const generation = this.generation
    this.local().then(
      (entries) => {
        if (generation === this.generation) this.hooks.send(summaryMessage(entries))
      },
      (err) => this.hooks.reportError(err, 'building inventory'),
    )
  }

  /** The link closed: forget this connection's exchange. */
  reset(): void {
    this.generation++
    this.snapshot = undefined
    this.remote = undefined
    this.queue = []
    this.running = 0
    this.total = -1
  }

  answerSummary(summary: InventorySummaryMessage): void {
    const generation = this.generation
    this.local().then(
      (entries) => {
        if (generation !== this.generation) return
        for (const page of inventoryAnswer(entries, summary)) this.hooks.send(page)
      },
      (err) => this.hooks.reportError(err, 'building inventory'),
    )
  }

  receive(m: InventoryMessage): void {
    this.remote ??= { bucketBits: m.bucketBits, buckets: [], entries: [] }
    const acc = this.remote
    acc.buckets.push(...m.buckets)
    acc.entries.push(...m.entries)
    if (!m.final) return
    this.remote = undefined
    const generation = this.generation
    this.local().then(
      (local) => {
        if (generation !== this.generation) return
        const differing = docsToSync(local, acc.entries, acc.bucketBits, acc.buckets)
        this.queue.push(...differing)
        this.total = differing.length
        this.pump()
      },
      (err) => this.hooks.reportError(err, 'building inventory'),
    )
  }

  private local(): Promise<InventoryEntry[]> {
    this.snapshot ??= this.hooks.inventory()
    return this.snapshot
  }

  /** Syncs differing documents a few at a time, so a large inventory does not load everything at once. */
  private pump(): void {
    const generation = this.generation
    while (this.running < this.hooks.concurrency && this.queue.length > 0) {
      const doc = this.queue.shift() as string
      const synced = this.hooks.sync(doc)
      if (synced === 'skip') continue
      if (synced === 'stop') return
      this.running++
      synced.then(() => {
        // A session of an earlier connection ends when it closes: not this round's.
        if (generation !== this.generation) return
        this.running--
        this.pump()
      })
    }
    if (this.running === 0 && this.queue.length === 0 && this.total >= 0) {
      const total = this.total
      this.total = -1
      this.hooks.done(total)
    }
  }
}
