import { type AppendMeta, ConvergeError, FailedTurn, nextTurn, onNextTurn } from '@converge/core'
import { type Batch, newBatch } from './append-batch.js'
import { type BatchOp, EMPTY, VIEW, writeOps } from './batch-ops.js'
import type { AppendJournal } from './journal.js'
import { encodeJournalRecord, journalMarkOp } from './journal-records.js'
import type { LevelChangeLog } from './level-change-log.js'
import { indexKey, logKey, type WriteKeys } from './level-keys.js'
import type { AnyLevel, LEVEL_STORE_DEFAULTS, LevelStoreStats } from './level-store-options.js'
import { LogChunkWriter } from './log-chunk.js'

/** What a GroupCommit uses of its LevelStore. */
export interface GroupCommitHost {
  readonly db: AnyLevel
  readonly options: typeof LEVEL_STORE_DEFAULTS
  /** Counts `batches`, `appended` and the `writeErrors` of appends. */
  readonly stats: LevelStoreStats
  /** Shared with compaction: every entry key of the instance is unique. */
  readonly keys: WriteKeys
  /** Its records go into the batch of their updates. */
  readonly changes: LevelChangeLog | undefined
  /** `chunk` (a document's updates of one batch) is in LevelDB; called before the batch's appends resolve unless journaled. */
  logged(doc: string, chunk: LogChunkWriter): void
  /** The journal (used without `sync`), and the sequence number of its last record (JOURNAL_MARK_KEY). */
  readonly journal: { readonly to: AppendJournal; seq: number } | undefined
  /** Settles once the store is open (its journal written to LevelDB): no batch is written before. */
  ready(): Promise<void>
}

/**
 * The write queue of a LevelStore's appends (group commit): every append made within one
 * turn of the event loop, across all documents, joins one batch, written as one atomic
 * LevelDB batch with one log entry per document (and the change log's records). One batch
 * is written at a time; appends made meanwhile fill the next, so batches grow exactly when
 * writes are slow. A batch's appends share one promise: it resolves once the batch is
 * durable and rejects if it failed, together with every batch queued after it.
 */
export class GroupCommit {
  /** Batches not yet written; appends join the last one. */
  private pending: Batch[] = []
  private inFlight: Batch | undefined
  private writeScheduled = false
  private readonly failedTurn = new FailedTurn()
  /** Documents whose index entry this instance has written. */
  private readonly indexed = new Set<string>()
  /**
   * Set when LevelDB failed a batch whose appends had resolved (journaled): from then on
   * every append fails and the journal is kept, so the next open writes that batch.
   */
  private broken: ConvergeError | undefined

  constructor(private readonly host: GroupCommitHost) {}

  /** Why every append now fails (LevelDB failed a journaled batch), if it does. */
  get failure(): ConvergeError | undefined {
    return this.broken
  }

  /** The journal batches go to first, if any (see LevelStoreOptions.journal). */
  get journal(): GroupCommitHost['journal'] {
    return this.host.journal
  }

  /** Queues `update` for the next batch; resolves when that batch is written. */
  append(doc: string, update: Uint8Array, meta: AppendMeta | undefined): Promise<void> {
    const refusal = this.broken ?? this.failedTurn.refusal()
    if (refusal !== undefined) return Promise.reject(refusal)
    const { maxBatchUpdates, maxBatchBytes } = this.host.options
    let batch = this.pending[this.pending.length - 1]
    if (batch === undefined || batch.count >= maxBatchUpdates || batch.bytes >= maxBatchBytes) {
      batch = newBatch()
      this.pending.push(batch)
    }
    let chunk = batch.docs.get(doc)
    if (chunk === undefined) {
      chunk = new LogChunkWriter()
      batch.docs.set(doc, chunk)
    }
    // Copied now (the caller's bytes may be a view on a buffer it reuses); the change log shares the copy.
    const copy = chunk.add(update)
    if (this.host.changes !== undefined) batch.changes.push({ doc, update: copy, meta })
    batch.count++
    batch.bytes += update.length
    if (this.inFlight === undefined && !this.writeScheduled) {
      this.writeScheduled = true
      onNextTurn(() => this.writePending())
    }
    return batch.done
  }

  /** Resolves when LevelDB holds every append made so far (or its write failed). */
  async written(): Promise<void> {
    const last = this.pending[this.pending.length - 1] ?? this.inFlight
    if (last !== undefined) await last.stored
  }

  /** `doc` was deleted: its next append writes its index entry again. */
  deleted(doc: string): void {
    this.indexed.delete(doc)
  }

  /** `doc` was unloaded: forgotten here, so its next append writes its (empty) index entry again. */
  unloaded(doc: string): void {
    this.indexed.delete(doc)
  }

  /** The documents this queue remembers (their index entry written). */
  indexedDocs(): Iterable<string> {
    return this.indexed
  }

  /** Writes batches one at a time until none is left; appends made meanwhile fill the next. */
  private async writePending(): Promise<void> {
    this.writeScheduled = false
    if (this.inFlight !== undefined) return
    for (let batch = this.pending.shift(); batch !== undefined; batch = this.pending.shift()) {
      this.inFlight = batch
      await this.writeBatch(batch)
      this.inFlight = undefined
      batch.markStored()
    }
    // LevelDB holds every batch journaled so far.
    const journal = this.host.journal
    if (journal !== undefined && journal.to.bytes > 0 && this.broken === undefined) journal.to.reset()
  }

  /**
   * Writes `ops` to the journal when it takes the batch (see LevelStoreOptions.journal),
   * with the mark that tells a replay whether LevelDB holds it; false when not journaled.
   */
  private journaled(batch: Batch, ops: BatchOp[]): boolean {
    const { journal, options } = this.host
    if (journal === undefined || options.sync) return false
    if (batch.bytes > options.maxJournalBatchBytes || journal.to.bytes >= options.maxJournalBytes) return false
    const seq = journal.seq + 1
    ops.push(journalMarkOp(seq))
    try {
      journal.to.append(encodeJournalRecord(seq, ops))
    } catch {
      // Not journaled: the batch resolves after its LevelDB write, which carries the mark all the same.
      journal.seq = seq
      return false
    }
    journal.seq = seq
    return true
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const { db, options, stats, keys, changes } = this.host
    const ops: BatchOp[] = []
    for (const [doc, chunk] of batch.docs) {
      ops.push({ type: 'put', key: logKey(doc, keys.next()), value: chunk.finish(), ...VIEW })
      // Once per document and instance (and again by every compaction, so a document that
      // another instance deleted and this one wrote again is listed again after a while).
      if (!this.indexed.has(doc)) ops.push({ type: 'put', key: indexKey(doc), value: EMPTY, ...VIEW })
    }
    let commitChanges: (() => void) | undefined
    let early = false
    try {
      await this.host.ready()
      if (changes !== undefined) {
        const changeOps = await changes.opsFor(batch.changes, Date.now())
        ops.push(...changeOps.ops)
        commitChanges = changeOps.commit
      }
      early = this.journaled(batch, ops)
      if (early) {
        // Durable in the journal: its appends go on first (what follows them, e.g. forwarding
        // to readers, runs in this turn's microtasks), then LevelDB writes it: handing a
        // batch to the thread pool blocks this thread for a while on a busy core.
        batch.resolve()
        await nextTurn()
      }
      await writeOps(db, options.sync, ops)
    } catch (cause) {
      stats.writeErrors++
      if (early) {
        // Its appends resolved: it stays in the journal, for the next open to write.
        this.broken = new ConvergeError(
          'CONVERGE_STORE_WRITE_FAILED',
          'LevelDB failed a journaled batch: the store takes no more appends until it is opened again (the journal keeps the batch)',
          { cause },
        )
      }
      batch.reject(
        new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `LevelDB batch of ${batch.count} appends failed`, { cause }),
      )
      // Appends land in order (see Store): those made while this batch was written, and
      // those made before its callers could react, may build on it, so they fail with it.
      for (const later of this.pending.splice(0)) {
        later.reject(new ConvergeError('CONVERGE_STORE_WRITE_FAILED', 'an earlier append failed', { cause }))
        later.markStored()
      }
      this.failedTurn.fail(cause)
      return
    }
    commitChanges?.()
    stats.batches++
    stats.appended += batch.count
    for (const [doc, chunk] of batch.docs) {
      this.indexed.add(doc)
      this.host.logged(doc, chunk)
    }
    if (!early) batch.resolve()
  }
}
