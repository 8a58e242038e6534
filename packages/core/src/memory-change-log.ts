import type { AppendMeta, ChangeLog, ChangeRetention, StoredChange } from './change-log.js'
import { EMPTY_STATE_VECTOR } from './state-digest.js'

/** Bytes a record counts for retention: its update, its state vector, and a fixed overhead. */
export const changeRecordBytes = (c: Pick<StoredChange, 'doc' | 'update' | 'stateVector' | 'who'>): number =>
  c.update.length + c.stateVector.length + c.doc.length + (c.who?.length ?? 0) + 32

/** A ChangeLog in memory, kept by a MemoryStore across its `restart()`. */
export class MemoryChangeLog implements ChangeLog {
  private records: StoredChange[] = []
  private latest = 0
  private bytes = 0
  private readonly listeners = new Set<(latest: number) => void>()

  /** Records one durable update; `notify` tells watchers once a batch is complete. */
  add(doc: string, update: Uint8Array, meta: AppendMeta | undefined, time: number): void {
    const record: StoredChange = {
      seq: ++this.latest,
      doc,
      update,
      stateVector: meta?.stateVector ?? EMPTY_STATE_VECTOR,
      who: meta?.who,
      time,
    }
    this.records.push(record)
    this.bytes += changeRecordBytes(record)
  }

  notify(): void {
    for (const listener of this.listeners) listener(this.latest)
  }

  async read(since: number, limit: number): Promise<StoredChange[]> {
    const first = this.records[0]
    if (first === undefined) return []
    const start = Math.max(0, since + 1 - first.seq)
    return this.records.slice(start, start + limit)
  }

  async bounds(): Promise<{ oldest: number; latest: number }> {
    return { oldest: this.records[0]?.seq ?? this.latest + 1, latest: this.latest }
  }

  async trim(retention: ChangeRetention): Promise<number> {
    const cutoff = retention.maxAgeMs === undefined ? -Infinity : Date.now() - retention.maxAgeMs
    const maxBytes = retention.maxBytes ?? Infinity
    let dropped = 0
    for (const r of this.records) {
      if (r.time > cutoff && this.bytes <= maxBytes) break
      this.bytes -= changeRecordBytes(r)
      dropped++
    }
    this.records = this.records.slice(dropped)
    return dropped
  }

  watch(listener: (latest: number) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
