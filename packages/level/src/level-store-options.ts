import type { ConvergeError, StoreStats } from '@converge/core'
import type { AbstractLevel } from 'abstract-level'
import type { AppendJournal } from './journal.js'

// biome-ignore lint/suspicious/noExplicitAny: any abstract-level database works; keys and values are encoded per call.
export type AnyLevel = AbstractLevel<any, any, any>

export interface LevelStoreOptions {
  /**
   * fsync every batch before its appends resolve (LevelDB's `sync`). Default false: a
   * resolved append survives a crash of the process, not of the machine.
   */
  sync?: boolean
  /** Compact a document in the background once its log holds at least this many updates... Default 500. */
  compactMinUpdates?: number
  /**
   * ...and its log bytes reach this share of the snapshot's bytes, so the work of a
   * compaction (proportional to the snapshot) stays proportional to what it merges. Default 0.5.
   */
  compactRatio?: number
  /** Compact regardless of the ratio once the log holds this many bytes. Default 8 MiB. */
  compactMaxLogBytes?: number
  /** Compact in the background (true, the default), or only when `compact()` is called. */
  autoCompact?: boolean
  /**
   * Compaction drops the content of deleted items (Yjs garbage collection). Default true;
   * false keeps it, for apps that restore old versions with Yjs snapshots.
   */
  gc?: boolean
  /** Most appends in one LevelDB batch. Default 20_000. */
  maxBatchUpdates?: number
  /** Most update bytes in one LevelDB batch. Default 16 MiB. */
  maxBatchBytes?: number
  /**
   * Once background compactions have deleted this many bytes of a document's entries (and
   * at least twice its snapshot), ask LevelDB to compact that document's key range
   * (classic-level's `compactRange`), so the disk space of deleted entries comes back now
   * rather than whenever LevelDB gets to it. An explicit `compact()` always does. 0 turns
   * it off for background compactions. Default 1 MiB.
   */
  reclaimAfterBytes?: number
  /**
   * Receives errors that no caller awaits: a background compaction that failed (its log
   * stays and a later trigger retries), a stored entry Yjs could not apply. Default: console.warn.
   */
  onError?: (err: ConvergeError) => void
  /**
   * Keep a change log (see level-change-log.ts): every append also writes a
   * sequence-numbered record, in the same batch. Default false.
   */
  changeLog?: boolean
  /**
   * Make a batch durable in this journal, synchronously, and resolve its appends before
   * the LevelDB write (append-journal.ts): appends resolve without a round trip through
   * libuv's thread pool. Used only without `sync`. `open()` must be called (and awaited)
   * before anything else: it writes to LevelDB what the journal holds. Default: none.
   */
  journal?: AppendJournal
  /**
   * Largest batch (update bytes) the journal takes; a larger one resolves after its LevelDB
   * write. 0: appends never use the journal (`open()` still writes what it holds). Default 1 MiB.
   */
  maxJournalBatchBytes?: number
  /**
   * The journal is emptied once LevelDB holds every batch; past this many bytes (LevelDB
   * never catching up), batches resolve after their LevelDB write until it is. Default 64 MiB.
   */
  maxJournalBytes?: number
}

export const LEVEL_STORE_DEFAULTS: Required<Omit<LevelStoreOptions, 'onError' | 'journal'>> = {
  changeLog: false,
  maxJournalBatchBytes: 1024 * 1024,
  maxJournalBytes: 64 * 1024 * 1024,
  sync: false,
  compactMinUpdates: 500,
  compactRatio: 0.5,
  compactMaxLogBytes: 8 * 1024 * 1024,
  autoCompact: true,
  gc: true,
  maxBatchUpdates: 20_000,
  maxBatchBytes: 16 * 1024 * 1024,
  reclaimAfterBytes: 1024 * 1024,
}

/** Counters of a LevelStore, for metrics and benchmarks. */
export interface LevelStoreStats extends StoreStats {
  /** Compactions that read a document and wrote nothing (it was not due after all). */
  compactionsSkipped: number
  /** Range compactions asked of LevelDB to free the space of deleted entries. */
  reclaims: number
  /** Wall time spent in compactions, ms (they interleave with other work). */
  compactionMs: number
  /** The longest stretch a compaction held the event loop, ms. */
  longestCompactionStepMs: number
}
