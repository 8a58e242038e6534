import { nextTurn } from '@converge/core'
import * as Y from 'yjs'
import { JSON_VALUE, KEY } from './batch-ops.js'
import { type DocEntries, type DocInfo, sumBytes } from './doc-entries.js'
import { docRange, metaKey } from './level-keys.js'
import type { AnyLevel, LEVEL_STORE_DEFAULTS, LevelStoreStats } from './level-store-options.js'
import { applyParts } from './merge-parts.js'

/** Log updates a compaction applies between two yields to the event loop. */
const COMPACTION_SLICE = 2_048

/** What a Compactor uses of its LevelStore. */
export interface CompactionHost {
  readonly db: AnyLevel
  readonly options: typeof LEVEL_STORE_DEFAULTS
  readonly stats: LevelStoreStats
  /** True once the store is closing: compactions stop at their next step. */
  closed(): boolean
  readDoc(doc: string): Promise<DocEntries>
  decodeLog(doc: string, entries: DocEntries, onBad?: (value: Uint8Array) => void): { info: DocInfo; log: Uint8Array[] }
  info(doc: string): DocInfo
  withDocLock(doc: string, task: () => Promise<void>): Promise<void>
  writeSnapshot(
    doc: string,
    entries: DocEntries,
    merged: Uint8Array,
    stateVector: Uint8Array,
    quarantine: Uint8Array[],
    mergedUpdates: number,
    what: string,
  ): Promise<object>
  report(err: unknown, context: string): void
}

/**
 * A LevelStore's compactions: background ones, queued when a document is due and run one
 * document at a time in slices that yield to the event loop, and explicit ones; entries
 * that do not decode or apply are quarantined, never deleted; space is reclaimed after.
 */
export class Compactor {
  /** Documents due for a background compaction, compacted one at a time. */
  private readonly queue = new Set<string>()
  /** Documents being compacted right now. */
  private readonly compacting = new Set<string>()
  private worker: Promise<void> | undefined

  constructor(private readonly host: CompactionHost) {}

  /** Queues `doc` for a background compaction when it is due (and auto-compaction is on). */
  maybeCompact(doc: string, info: DocInfo): void {
    if (!this.host.options.autoCompact || this.host.closed()) return
    if (this.queue.has(doc) || this.compacting.has(doc)) return
    if (!this.isDue(info)) return
    this.queue.add(doc)
    this.worker ??= this.runCompactions().finally(() => {
      this.worker = undefined
    })
  }

  /** Background compactions, one document at a time, so their pauses never stack up. */
  private async runCompactions(): Promise<void> {
    // Start after the current turn: the batch that triggered us resolves its appends first.
    await nextTurn()
    for (const doc of this.queue) {
      this.queue.delete(doc)
      if (this.host.closed()) break
      await this.host
        .withDocLock(doc, () => this.compactDoc(doc, true))
        .catch((err) =>
          this.host.report(err, `background compaction of ${doc} failed; its log stays and a later compaction retries`),
        )
    }
  }

  private isDue(info: DocInfo): boolean {
    const { compactMinUpdates, compactRatio, compactMaxLogBytes } = this.host.options
    return (
      info.logBytes >= compactMaxLogBytes ||
      (info.logCount >= compactMinUpdates && info.logBytes >= compactRatio * info.snapshotBytes)
    )
  }

  /** Compacts `doc` now (after the compactions and deletions of it already queued). */
  compact(doc: string): Promise<void> {
    this.queue.delete(doc)
    return this.host.withDocLock(doc, () => this.compactDoc(doc, false))
  }

  /** Drops `doc` from the background queue. */
  forget(doc: string): void {
    this.queue.delete(doc)
  }

  /** Stops queueing; resolves with the running background compaction, if any. */
  stop(): Promise<void> | undefined {
    this.queue.clear()
    return this.worker
  }

  private async compactDoc(doc: string, onlyIfDue: boolean): Promise<void> {
    this.compacting.add(doc)
    try {
      await this.compactOnce(doc, onlyIfDue)
    } finally {
      this.compacting.delete(doc)
    }
    // Appends that arrived meanwhile may have made it due again.
    this.maybeCompact(doc, this.host.info(doc))
  }

  private async compactOnce(doc: string, onlyIfDue: boolean): Promise<void> {
    const started = performance.now()
    const entries = await this.host.readDoc(doc)
    const { snapshots } = entries
    // Bytes that do not decode or apply are moved aside, never deleted: nothing is lost,
    // and the document keeps compacting.
    const quarantine: Uint8Array[] = []
    const { info, log } = this.host.decodeLog(doc, entries, (value) => quarantine.push(value))
    const logBytes = info.logBytes
    if (entries.log.length === 0 && snapshots.length <= 1) return
    if (onlyIfDue && !this.isDue(info)) {
      this.host.stats.compactionsSkipped++
      return
    }
    const onBad = (err: unknown, part: Uint8Array) => {
      this.host.report(err, `compacting ${doc}: an entry does not apply; it is kept aside`)
      quarantine.push(part)
    }
    const ydoc = new Y.Doc({ gc: this.host.options.gc })
    let encoded: [update: Uint8Array, stateVector: Uint8Array]
    try {
      this.timed(() =>
        applyParts(
          ydoc,
          snapshots.map((s) => s.value),
          onBad,
        ),
      )
      for (let i = 0; i < log.length; i += COMPACTION_SLICE) {
        await nextTurn()
        if (this.host.closed()) return
        this.timed(() => applyParts(ydoc, log.slice(i, i + COMPACTION_SLICE), onBad))
      }
      await nextTurn()
      if (this.host.closed()) return
      encoded = this.timed(() => [Y.encodeStateAsUpdate(ydoc), Y.encodeStateVector(ydoc)])
    } finally {
      ydoc.destroy()
    }
    const [merged, stateVector] = encoded
    const meta = await this.host.writeSnapshot(doc, entries, merged, stateVector, quarantine, log.length, 'compaction')
    this.host.stats.compactions++
    // Appends that landed during the compaction stay counted.
    info.logCount = Math.max(0, info.logCount - log.length)
    info.logBytes = Math.max(0, info.logBytes - logBytes)
    info.snapshotBytes = merged.length
    info.deletedBytes += sumBytes(entries.log) + sumBytes(snapshots)
    this.host.stats.compactionMs += performance.now() - started
    // An explicit compaction gives the space back now; background ones once it is worth a
    // rewrite of the range (LevelDB rewrites the live data of the range too).
    const { reclaimAfterBytes } = this.host.options
    const worth = onlyIfDue
      ? reclaimAfterBytes > 0 && info.deletedBytes >= Math.max(reclaimAfterBytes, 2 * info.snapshotBytes)
      : info.deletedBytes > 0
    if (worth) await this.reclaim(doc, info, meta)
  }

  /**
   * Asks LevelDB to compact the document's range, dropping the entries compactions deleted.
   * LevelDB drops them only when it merges files of two levels: a range whose entries all
   * sit in one level (a memtable flushed straight to level 2, as happens on a young
   * database) keeps them. So it compacts, rewrites one small entry into the range (now
   * above that level), and compacts again, which merges the two.
   */
  private async reclaim(doc: string, info: DocInfo, meta: object): Promise<void> {
    const db = this.host.db as AnyLevel & { compactRange?: (gte: string, lt: string, o: object) => Promise<void> }
    if (typeof db.compactRange !== 'function') return
    info.deletedBytes = 0
    const { gte, lt } = docRange(doc)
    await db.compactRange(gte, lt, KEY)
    await db.put(metaKey(doc), meta, JSON_VALUE)
    await db.compactRange(gte, lt, KEY)
    this.host.stats.reclaims++
  }

  /** Runs a synchronous step of a compaction and records how long it held the event loop. */
  private timed<T>(step: () => T): T {
    const started = performance.now()
    try {
      return step()
    } finally {
      const ms = performance.now() - started
      if (ms > this.host.stats.longestCompactionStepMs) this.host.stats.longestCompactionStepMs = ms
    }
  }
}
