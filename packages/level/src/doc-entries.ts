import { EMPTY_STATE_VECTOR } from '@converge/core'
import * as decoding from 'lib0/decoding'
import { EMPTY, VIEW } from './batch-ops.js'
import { docRange, genOfSnapshotKey, kindOfDocKey } from './level-keys.js'
import type { AnyLevel } from './level-store-options.js'
import { readLogChunk } from './log-chunk.js'
import { StateVectorUnion } from './state-vector-union.js'

/** Where a read reports an entry it cannot decode (LevelStore's onError, with context). */
export type Report = (err: unknown, context: string) => void

/** What this instance knows about one document. */
export interface DocInfo {
  /** Updates and bytes in the log (as of the last read of it, plus appends since). */
  logCount: number
  logBytes: number
  snapshotBytes: number
  /** Log bytes deleted by compactions since LevelDB last compacted the range. */
  deletedBytes: number
  /** Bumped by every append and delete; the caches below hold for one version. */
  version: number
  stateVector?: { version: number; value: Uint8Array }
  digest?: { version: number; value: Uint8Array }
}

/** One scan of a document's range. */
export interface DocEntries {
  log: Array<{ key: string; value: Uint8Array }>
  snapshots: Array<{ key: string; value: Uint8Array; gen: number }>
  /** The stored state vector, and the key of the snapshot it belongs to. */
  stateVector: { snapshotKey: string; value: Uint8Array } | undefined
}

export const sumBytes = (parts: Array<{ value: Uint8Array }>) => parts.reduce((n, p) => n + p.value.length, 0)

/** Every entry of a document, in one scan (see level-keys.ts for why one scan suffices). */
export const readDocEntries = async (db: AnyLevel, doc: string, report: Report): Promise<DocEntries> => {
  const entries: Array<[string, Uint8Array]> = await db.iterator({ ...docRange(doc), ...VIEW }).all()
  const result: DocEntries = { log: [], snapshots: [], stateVector: undefined }
  for (const [key, value = EMPTY] of entries) {
    const kind = kindOfDocKey(doc, key)
    if (kind === 'log') result.log.push({ key, value })
    else if (kind === 'snapshot') result.snapshots.push({ key, value, gen: genOfSnapshotKey(doc, key) })
    else if (kind === 'state-vector') result.stateVector = readStateVectorEntry(doc, value, report)
  }
  return result
}

export const readChunk = (
  doc: string,
  entry: { key: string; value: Uint8Array },
  report: Report,
  onBad?: (value: Uint8Array) => void,
): Uint8Array[] => {
  try {
    return readLogChunk(entry.value)
  } catch (err) {
    report(err, `${doc}: log entry ${JSON.stringify(entry.key)} does not decode`)
    onBad?.(entry.value)
    return []
  }
}

const readStateVectorEntry = (doc: string, value: Uint8Array, report: Report): DocEntries['stateVector'] => {
  try {
    const decoder = decoding.createDecoder(value)
    return { snapshotKey: decoding.readVarString(decoder), value: decoding.readVarUint8Array(decoder) }
  } catch (err) {
    report(err, `${doc}: the stored state vector does not decode`)
    return undefined
  }
}

export const stateVectorOfEntries = (
  doc: string,
  { snapshots, log, stateVector }: DocEntries,
  report: Report,
): Uint8Array => {
  if (snapshots.length === 0 && log.length === 0) return EMPTY_STATE_VECTOR
  const matches = stateVector !== undefined && snapshots.length === 1 && stateVector.snapshotKey === snapshots[0]?.key
  const stored = matches ? stateVector.value : undefined
  if (stored !== undefined && log.length === 0) return stored
  const union = new StateVectorUnion()
  if (stored !== undefined) union.addStateVector(stored)
  else for (const s of snapshots) addToUnion(union, doc, s.value, report)
  for (const entry of log) for (const update of readChunk(doc, entry, report)) addToUnion(union, doc, update, report)
  return union.encode()
}

const addToUnion = (union: StateVectorUnion, doc: string, update: Uint8Array, report: Report): void => {
  try {
    union.addUpdate(update)
  } catch (err) {
    report(err, `state vector of ${doc}: an entry does not decode`)
  }
}
