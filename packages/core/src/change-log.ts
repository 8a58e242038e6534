/**
 * An optional Store capability: a change log that gives every durable update a sequence
 * number, written in the same atomic write as the update itself, so a record exists for an
 * update exactly when the update is durable. A relay serves it as its change feed.
 */

/** What the writer knows about an update beyond its bytes, stored with its change record. */
export interface AppendMeta {
  /** Who made the update (the user of the connection it came from), when known. */
  who?: string
  /** The state vector of the writer's document once the update is applied. */
  stateVector?: Uint8Array
}

/** One durable update, as the change log keeps it. */
export interface StoredChange {
  /** Sequence number: 1, 2, 3, ... per store, never reused, never skipped. */
  seq: number
  doc: string
  update: Uint8Array
  /** See AppendMeta.stateVector; empty when the writer did not give one. */
  stateVector: Uint8Array
  who: string | undefined
  /** When the update became durable, ms since the epoch. */
  time: number
}

/** How much of the change log to keep; older records are dropped by `trim`. */
export interface ChangeRetention {
  /** Drop records at least this many ms old. */
  maxAgeMs?: number
  /** Drop the oldest records while the log holds more than this many bytes. */
  maxBytes?: number
}

export interface ChangeLog {
  /** Records with a sequence number above `since`, oldest first, at most `limit`. */
  read(since: number, limit: number): Promise<StoredChange[]>
  /**
   * The oldest sequence number still kept and the latest written (oldest is latest + 1 when
   * the log is empty). A cursor below `oldest - 1` has lost records to retention.
   */
  bounds(): Promise<{ oldest: number; latest: number }>
  /** Drops the records the retention no longer keeps; resolves with how many were dropped. */
  trim(retention: ChangeRetention): Promise<number>
  /** Calls `listener` with the latest sequence number after every write that added records. */
  watch(listener: (latest: number) => void): () => void
}
