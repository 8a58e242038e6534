import type * as Y from 'yjs'
import type { AppendMeta, ChangeLog } from './change-log.js'

/**
 * Where a replica keeps its documents. Every implementation passes the shared
 * conformance suite (store-conformance.ts).
 *
 * Semantics every implementation keeps:
 * - `append` resolves only once the update is durable (as durable as the store is
 *   configured to be); it rejects with a CONVERGE_STORE_WRITE_FAILED error otherwise.
 * - Appends land in the order they were made: when one fails, every append made after it
 *   that is not yet durable fails too, and so does every append made in the turn of the
 *   event loop in which the failure is reported (before its callers could react). A
 *   peer's later update may build on its earlier one; it must never be kept when the
 *   earlier one was lost.
 * - `load` returns one Yjs update (V1) holding everything appended and not deleted,
 *   or undefined for a document never written.
 * - Appending the same update twice is harmless: Yjs updates are idempotent.
 */
export interface Store {
  /** Everything stored for `doc`, merged into one update; undefined if the doc does not exist. */
  load(doc: string): Promise<Uint8Array | undefined>
  /**
   * Persists one update. Resolves when it is durable. `meta` goes into the change record
   * of a store that keeps a change log, and is ignored by one that does not.
   */
  append(doc: string, update: Uint8Array, meta?: AppendMeta): Promise<void>
  /** The encoded state vector of the stored document (an empty vector for an unknown doc). */
  stateVector(doc: string): Promise<Uint8Array>
  /**
   * A digest of the stored state (state vector and delete set). Equal states give equal
   * digests; for anti-entropy between peers.
   */
  digest(doc: string): Promise<Uint8Array>
  /** Merges the document's log into its snapshot. Safe to call at any time. */
  compact(doc: string): Promise<void>
  /** Names of all stored documents, sorted. */
  list(): Promise<string[]>
  /** Removes a document and everything stored for it. */
  delete(doc: string): Promise<void>
  /**
   * The change log, when this store keeps one (see change-log.ts): every append then also
   * writes a sequence-numbered record in the same atomic write.
   */
  readonly changes?: ChangeLog
  /** Waits for pending writes, then releases resources. Later calls reject with CONVERGE_STORE_CLOSED. */
  close(): Promise<void>
  /**
   * The caller no longer holds `doc` in memory (a replica unloaded it): the store drops
   * what it keeps in memory for that document (counts, caches), so an unloaded document
   * costs nothing but its stored bytes. Later calls about `doc` work as before and rebuild
   * what they need. Optional.
   */
  unloaded?(doc: string): void

  /**
   * Set once the store takes no more appends until it is opened again (e.g. a LevelStore
   * whose journaled batch LevelDB failed: the journal keeps it for the next open); a relay's
   * /readyz then answers 503. Optional.
   */
  readonly failure?: Error | undefined
  /**
   * Rebuilds the stored document part by part (snapshots, then log updates in order),
   * moving aside into a quarantine, never deleting, every part that `check` rejects (it
   * throws) or that Yjs fails to apply, and stores the rest as its state. Resolves with
   * the number of parts set aside. A replica calls it when a stored document fails to
   * load, so the document serves everything else. Optional.
   */
  repair?(doc: string, check: (ydoc: Y.Doc, part: Uint8Array) => void): Promise<number>
}

/** Counters a store keeps about itself, for metrics. */
export interface StoreStats {
  /** Updates made durable. */
  appended: number
  /** Batches written. */
  batches: number
  /** Failed batch writes (each rejects every append it held). */
  writeErrors: number
  /** Compactions completed. */
  compactions: number
}
