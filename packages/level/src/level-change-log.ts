import {
  type AppendMeta,
  type ChangeLog,
  type ChangeRetention,
  changeRecordBytes,
  EMPTY_STATE_VECTOR,
  type StoredChange,
} from '@converge/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { AnyLevel } from './level-store.js'

/**
 * The change log of a LevelStore, in its own key range of the same database:
 *
 *   c\0<last seq as 16 hex digits>   the records of one group commit, one per durable
 *                                    update, sequence numbers up to this one (see
 *                                    encodeBatchEntry); databases written before hold one
 *                                    record per entry (encodeRecord), read alike
 *   k\0changes                       the latest sequence number written, as decimal text
 *
 * The store puts a batch's entry and the counter in the same LevelDB batch as its updates
 * (`opsFor`), so a record exists exactly when its update is durable. One entry per batch,
 * not per record: a LevelDB put per update doubled the cost of an append. Readers still
 * get one record per sequence number. Document compaction never touches this range; only
 * `trim` (the retention) removes entries, whole.
 */
const PREFIX = 'c\u0000'
const END = 'c\u0001'
const COUNTER_KEY = 'k\u0000changes'
const SEQ_WIDTH = 16

const recordKey = (seq: number) => PREFIX + seq.toString(16).padStart(SEQ_WIDTH, '0')
const seqOfKey = (key: string) => Number.parseInt(key.slice(PREFIX.length), 16)

const VIEW = { keyEncoding: 'utf8', valueEncoding: 'view' } as const
const UTF8 = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const

export interface PendingChange {
  doc: string
  update: Uint8Array
  meta: AppendMeta | undefined
}

export type ChangeOp =
  | { type: 'put'; key: string; value: Uint8Array; keyEncoding: 'utf8'; valueEncoding: 'view' }
  | { type: 'put'; key: string; value: string; keyEncoding: 'utf8'; valueEncoding: 'utf8' }

/** varString doc, varUint8Array update, varUint8Array stateVector, varString who ('' = none), varUint time. */
export const encodeRecord = (c: Omit<StoredChange, 'seq'>): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, c.doc)
  encoding.writeVarUint8Array(e, c.update)
  encoding.writeVarUint8Array(e, c.stateVector)
  encoding.writeVarString(e, c.who ?? '')
  encoding.writeVarUint(e, c.time)
  return encoding.toUint8Array(e)
}

/** First byte of a batch entry; a one-record entry starts with its doc name's length, never 0. */
const BATCH_ENTRY = 0

/**
 * The records of one batch, sequence numbers `first` on, all with the batch's time:
 * uint8 0, varUint first, varUint time, then per record varString doc,
 * varUint8Array update, varUint8Array stateVector, varString who ('' = none).
 */
export const encodeBatchEntry = (first: number, time: number, changes: PendingChange[]): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, BATCH_ENTRY)
  encoding.writeVarUint(e, first)
  encoding.writeVarUint(e, time)
  for (const { doc, update, meta } of changes) {
    encoding.writeVarString(e, doc)
    encoding.writeVarUint8Array(e, update)
    encoding.writeVarUint8Array(e, meta?.stateVector ?? EMPTY_STATE_VECTOR)
    encoding.writeVarString(e, meta?.who ?? '')
  }
  return encoding.toUint8Array(e)
}

/**
 * The records of the entry whose key holds `last` (a batch entry or a one-record entry),
 * from sequence number `from` on, at most `max`: a reader paging through a big batch
 * skips what it has read without building it.
 */
export const decodeEntry = (last: number, value: Uint8Array, from = 0, max = Infinity): StoredChange[] => {
  if (value[0] !== BATCH_ENTRY) return last >= from && max > 0 ? [decodeRecord(last, value)] : []
  const d = decoding.createDecoder(value)
  decoding.readUint8(d)
  const first = decoding.readVarUint(d)
  const time = decoding.readVarUint(d)
  const out: StoredChange[] = []
  for (let seq = first; seq <= last && out.length < max; seq++) {
    const doc = decoding.readVarString(d)
    const update = decoding.readVarUint8Array(d)
    const stateVector = decoding.readVarUint8Array(d)
    const who = decoding.readVarString(d)
    if (seq >= from) out.push({ seq, doc, update, stateVector, who: who === '' ? undefined : who, time })
  }
  return out
}

export const decodeRecord = (seq: number, value: Uint8Array): StoredChange => {
  const d = decoding.createDecoder(value)
  const doc = decoding.readVarString(d)
  const update = decoding.readVarUint8Array(d)
  const stateVector = decoding.readVarUint8Array(d)
  const who = decoding.readVarString(d)
  const time = decoding.readVarUint(d)
  return { seq, doc, update, stateVector, who: who === '' ? undefined : who, time }
}

export class LevelChangeLog implements ChangeLog {
  private readonly db: AnyLevel
  private latest = 0
  private oldest = 1
  private bytes = 0
  private ready: Promise<void> | undefined
  private readonly listeners = new Set<(latest: number) => void>()

  constructor(db: AnyLevel) {
    this.db = db
  }

  /** Reads the counter and sizes the retained records (once, before the first write or read). */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      const counter: string | undefined = await this.db.get(COUNTER_KEY, UTF8)
      this.latest = counter === undefined ? 0 : Number(counter)
      let first: number | undefined
      for await (const [key, value] of this.db.iterator({ gte: PREFIX, lt: END, ...VIEW })) {
        for (const record of decodeEntry(seqOfKey(key), value)) {
          first ??= record.seq
          this.bytes += changeRecordBytes(record)
        }
      }
      this.oldest = first ?? this.latest + 1
    })()
    return this.ready
  }

  /** The records of a batch about to be written, and the counter; `commit` or `rollback` after the write. */
  async opsFor(changes: PendingChange[], time: number): Promise<{ ops: ChangeOp[]; commit: () => void }> {
    await this.init()
    const ops: ChangeOp[] = []
    const seq = this.latest + changes.length
    let bytes = 0
    for (const { doc, update, meta } of changes) {
      bytes += changeRecordBytes({ doc, update, stateVector: meta?.stateVector ?? EMPTY_STATE_VECTOR, who: meta?.who })
    }
    if (changes.length > 0) {
      ops.push({ type: 'put', key: recordKey(seq), value: encodeBatchEntry(this.latest + 1, time, changes), ...VIEW })
    }
    ops.push({ type: 'put', key: COUNTER_KEY, value: String(seq), ...UTF8 })
    return {
      ops,
      commit: () => {
        if (this.oldest > this.latest) this.oldest = this.latest + 1
        this.latest = seq
        this.bytes += bytes
        for (const listener of this.listeners) listener(seq)
      },
    }
  }

  async read(since: number, limit: number): Promise<StoredChange[]> {
    await this.init()
    const out: StoredChange[] = []
    // The first entry whose last sequence is above `since` holds since + 1.
    const it = this.db.iterator({ gt: recordKey(Math.max(0, since)), lt: END, ...VIEW })
    for await (const [key, value] of it) {
      out.push(...decodeEntry(seqOfKey(key), value, since + 1, limit - out.length))
      if (out.length >= limit) break
    }
    return out
  }

  async bounds(): Promise<{ oldest: number; latest: number }> {
    await this.init()
    return { oldest: this.oldest, latest: this.latest }
  }

  async trim(retention: ChangeRetention): Promise<number> {
    await this.init()
    const cutoff = retention.maxAgeMs === undefined ? -Infinity : Date.now() - retention.maxAgeMs
    const maxBytes = retention.maxBytes ?? Infinity
    const keys: string[] = []
    let bytes = this.bytes
    let dropped = 0
    // Whole entries: the records of a batch share its time, and dropping a batch that
    // crosses `maxBytes` keeps the log under it.
    for await (const [key, value] of this.db.iterator({ gte: PREFIX, lt: END, ...VIEW })) {
      const records = decodeEntry(seqOfKey(key), value)
      const first = records[0]
      if (first === undefined || (first.time > cutoff && bytes <= maxBytes)) break
      for (const record of records) bytes -= changeRecordBytes(record)
      dropped += records.length
      keys.push(key)
    }
    if (keys.length === 0) return 0
    await this.db.batch(keys.map((key) => ({ type: 'del' as const, key, keyEncoding: 'utf8' })))
    this.bytes = bytes
    this.oldest = seqOfKey(keys[keys.length - 1] as string) + 1
    return dropped
  }

  watch(listener: (latest: number) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
