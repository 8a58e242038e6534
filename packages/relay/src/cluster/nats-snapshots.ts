import type { KV } from '@nats-io/kv'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { encodeDocToken } from './nats-subjects.js'

/** A document's compacted state and the stream sequence through which it holds every update. */
export interface Snapshot {
  seq: number
  state: Uint8Array
}

const FORMAT = 1

export const encodeSnapshot = (s: Snapshot): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, FORMAT)
  encoding.writeVarUint(e, s.seq)
  encoding.writeVarUint8Array(e, s.state)
  return encoding.toUint8Array(e)
}

/** Undefined for bytes that are not a snapshot of this format. */
export const decodeSnapshot = (bytes: Uint8Array): Snapshot | undefined => {
  try {
    const d = decoding.createDecoder(bytes)
    if (decoding.readVarUint(d) !== FORMAT) return undefined
    const seq = decoding.readVarUint(d)
    const state = decoding.readVarUint8Array(d)
    return { seq, state }
  } catch {
    return undefined
  }
}

/**
 * Snapshots in a JetStream KV bucket, one key per document. A write never replaces a
 * snapshot with an older one: it is a compare-and-set on the key's revision, and a
 * snapshot at a lower sequence than the stored one is dropped.
 */
export class SnapshotBucket {
  constructor(private readonly kv: KV) {}

  async get(doc: string): Promise<Snapshot | undefined> {
    const entry = await this.kv.get(encodeDocToken(doc))
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined
    return decodeSnapshot(entry.value)
  }

  /** Stores `snapshot` unless the bucket holds one as new; true when written. */
  async put(doc: string, snapshot: Snapshot): Promise<boolean> {
    const key = encodeDocToken(doc)
    const entry = await this.kv.get(key)
    const current = entry === null || entry.operation !== 'PUT' ? undefined : decodeSnapshot(entry.value)
    if (current !== undefined && current.seq >= snapshot.seq) return false
    const value = encodeSnapshot(snapshot)
    try {
      if (entry === null) await this.kv.create(key, value)
      else await this.kv.update(key, value, entry.revision)
      return true
    } catch {
      // Another relay wrote first: its snapshot is at least as new as the one it replaced.
      return false
    }
  }
}
