/**
 * The append journal: a LevelStore given one (the `journal` option) makes a batch of
 * appends durable by writing it to the journal synchronously, resolves its appends, and
 * then writes it to LevelDB as before. A relay's updates then reach their readers without
 * waiting for the LevelDB write (a round trip through libuv's thread pool): the journal
 * write is one `write` of the batch to the page cache, the same durability as LevelDB's
 * own log without `sync` (a crash of the process loses nothing, a crash of the machine
 * may). `LevelStore.open()` writes what the journal holds and LevelDB does not to LevelDB.
 *
 * A record is one batch's LevelDB operations and a sequence number; the same batch puts
 * the number under JOURNAL_MARK_KEY, so a record is written again exactly when LevelDB
 * does not hold its batch (whatever compaction did since). The journal is emptied when no
 * batch is left to write. Browser-safe: the file itself is the relay's (file-journal.ts).
 */
/** Where a journal keeps its records; LevelStore calls it from one thread, in order. */
export interface AppendJournal {
  /** Every whole record written since the last `reset`, in order; a torn or damaged tail is left out. */
  read(): Uint8Array[]
  /** Writes `record` before returning (to the page cache, at least). Throws when it cannot. */
  append(record: Uint8Array): void
  /** Forgets every record (all are in LevelDB). */
  reset(): void
  /** Bytes written since the last `reset`. */
  readonly bytes: number
  close(): void
}
