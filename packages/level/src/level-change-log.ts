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
 *   c\0<seq as 16 hex digits>   one record per durable update (see encodeRecord)
 *   k\0changes                  the latest sequence number written, as decimal text
 *
 * The store puts a batch's records and the counter in the same LevelDB batch as its
 * updates (`opsFor`), so a record exists exactly when its update is durable. Document
 * compaction never touches this range; only `trim` (the retention) removes records.
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
        first ??= seqOfKey(key)
        this.bytes += changeRecordBytes(decodeRecord(0, value))
      }
      this.oldest = first ?? this.latest + 1
    })()
    return this.ready
  }

  /** The records of a batch about to be written, and the counter; `commit` or `rollback` after the write. */
  async opsFor(changes: PendingChange[], time: number): Promise<{ ops: ChangeOp[]; commit: () => void }> {
    await this.init()
    const ops: ChangeOp[] = []
    let seq = this.latest
    let bytes = 0
    for (const { doc, update, meta } of changes) {
      const record = { doc, update, stateVector: meta?.stateVector ?? EMPTY_STATE_VECTOR, who: meta?.who, time }
      ops.push({ type: 'put', key: recordKey(++seq), value: encodeRecord(record), ...VIEW })
      bytes += changeRecordBytes(record)
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
    const it = this.db.iterator({ gt: recordKey(Math.max(0, since)), lt: END, limit, ...VIEW })
    for await (const [key, value] of it) out.push(decodeRecord(seqOfKey(key), value))
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
    for await (const [key, value] of this.db.iterator({ gte: PREFIX, lt: END, ...VIEW })) {
      const record = decodeRecord(seqOfKey(key), value)
      if (record.time > cutoff && bytes <= maxBytes) break
      bytes -= changeRecordBytes(record)
      keys.push(key)
    }
    if (keys.length === 0) return 0
    await this.db.batch(keys.map((key) => ({ type: 'del' as const, key, keyEncoding: 'utf8' })))
    this.bytes = bytes
    this.oldest = seqOfKey(keys[keys.length - 1] as string) + 1
    return keys.length
  }

  watch(listener: (latest: number) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
