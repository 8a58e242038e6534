/** The journal's records (see journal.ts): a batch's LevelDB operations, its mark, and the replay at open. */

import { ConvergeError } from '@converge/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { type BatchOp, writeOps } from './batch-ops.js'
import type { AppendJournal } from './journal.js'
import type { AnyLevel } from './level-store-options.js'

/** The sequence number of the last journaled batch LevelDB holds. */
export const JOURNAL_MARK_KEY = 'k\u0000journal'

const PUT_VIEW = 0
const PUT_UTF8 = 1
const PUT_JSON = 2
const DEL = 3

/** varUint seq, varUint count, then per op: kind, varString key, and the value for puts. */
export const encodeJournalRecord = (seq: number, ops: BatchOp[]): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, seq)
  encoding.writeVarUint(e, ops.length)
  for (const op of ops) {
    if (op.type === 'del') {
      encoding.writeVarUint(e, DEL)
      encoding.writeVarString(e, op.key)
    } else if (op.valueEncoding === 'view') {
      encoding.writeVarUint(e, PUT_VIEW)
      encoding.writeVarString(e, op.key)
      encoding.writeVarUint8Array(e, op.value as Uint8Array)
    } else {
      encoding.writeVarUint(e, op.valueEncoding === 'utf8' ? PUT_UTF8 : PUT_JSON)
      encoding.writeVarString(e, op.key)
      encoding.writeVarString(e, op.valueEncoding === 'utf8' ? String(op.value) : JSON.stringify(op.value))
    }
  }
  return encoding.toUint8Array(e)
}

/** The inverse of encodeJournalRecord; throws on a record it did not write. */
export const decodeJournalRecord = (record: Uint8Array): { seq: number; ops: BatchOp[] } => {
  const d = decoding.createDecoder(record)
  const seq = decoding.readVarUint(d)
  const count = decoding.readVarUint(d)
  const ops: BatchOp[] = []
  for (let i = 0; i < count; i++) {
    const kind = decoding.readVarUint(d)
    const key = decoding.readVarString(d)
    if (kind === DEL) ops.push({ type: 'del', key, keyEncoding: 'utf8' })
    else if (kind === PUT_VIEW)
      ops.push({ type: 'put', key, value: decoding.readVarUint8Array(d), keyEncoding: 'utf8', valueEncoding: 'view' })
    else if (kind === PUT_UTF8)
      ops.push({ type: 'put', key, value: decoding.readVarString(d), keyEncoding: 'utf8', valueEncoding: 'utf8' })
    else if (kind === PUT_JSON)
      ops.push({
        type: 'put',
        key,
        value: JSON.parse(decoding.readVarString(d)),
        keyEncoding: 'utf8',
        valueEncoding: 'json',
      })
    else throw new Error(`unknown journal operation ${kind}`)
  }
  return { seq, ops }
}

/** The journal mark a batch carries: its record's sequence number. */
export const journalMarkOp = (seq: number): BatchOp => ({
  type: 'put',
  key: JOURNAL_MARK_KEY,
  value: String(seq),
  keyEncoding: 'utf8',
  valueEncoding: 'utf8',
})

/**
 * Writes to LevelDB, in order, each batch of the journal that it does not hold (sequence
 * number above the stored mark), then empties the journal. Resolves with the sequence
 * number of the last batch LevelDB holds. The journal leaves out a torn tail (a write never
 * finished, so never acknowledged); a whole record that does not decode is not this
 * version's, and rejects the open with the journal kept rather than drop what follows it.
 */
export const replayJournal = async (db: AnyLevel, journal: AppendJournal, sync: boolean): Promise<number> => {
  const stored = await db.get(JOURNAL_MARK_KEY, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  let seq = stored === undefined ? 0 : Number(stored)
  for (const record of journal.read()) {
    let batch: { seq: number; ops: BatchOp[] }
    try {
      batch = decodeJournalRecord(record)
    } catch (cause) {
      throw new ConvergeError(
        'CONVERGE_INTERNAL',
        'the append journal holds a record this version cannot read: it is kept, nothing was dropped',
        { cause },
      )
    }
    if (batch.seq <= seq) continue
    await writeOps(db, sync, batch.ops)
    seq = batch.seq
  }
  journal.reset()
  return seq
}
