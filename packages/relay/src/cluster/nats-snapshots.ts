import { randomBytes } from 'node:crypto'
import type { KV } from '@nats-io/kv'
import type { ObjectStore } from '@nats-io/obj'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { encodeDocToken } from './nats-subjects.js'

/** A document's compacted state and the stream sequence through which it holds every update. */
export interface Snapshot {
  seq: number
  state: Uint8Array
}

/** What the KV bucket holds for a document: the snapshot itself, or where in the object store it is. */
export type SnapshotRecord = Snapshot | { seq: number; object: string; size: number }

/** The snapshot inline in the KV value. */
const INLINE = 1
/** The snapshot in the object store: the KV value names the object. */
const IN_OBJECT = 2

/**
 * Room left in a NATS message for the KV's subject and headers, in bytes: a snapshot
 * whose value would come closer than this to the server's `max_payload` goes to the
 * object store.
 */
export const KV_PAYLOAD_MARGIN = 16 * 1024

/** Tries at reading a snapshot whose object a newer snapshot replaced meanwhile. */
const READ_ATTEMPTS = 3

export const encodeSnapshot = (s: Snapshot): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, INLINE)
  encoding.writeVarUint(e, s.seq)
  encoding.writeVarUint8Array(e, s.state)
  return encoding.toUint8Array(e)
}

const encodePointer = (seq: number, object: string, size: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, IN_OBJECT)
  encoding.writeVarUint(e, seq)
  encoding.writeVarString(e, object)
  encoding.writeVarUint(e, size)
  return encoding.toUint8Array(e)
}

/** Undefined for bytes that are not a snapshot record of a known format. */
export const decodeSnapshot = (bytes: Uint8Array): SnapshotRecord | undefined => {
  try {
    const d = decoding.createDecoder(bytes)
    const format = decoding.readVarUint(d)
    if (format === INLINE) {
      const seq = decoding.readVarUint(d)
      return { seq, state: decoding.readVarUint8Array(d) }
    }
    if (format === IN_OBJECT) {
      const seq = decoding.readVarUint(d)
      const object = decoding.readVarString(d)
      return { seq, object, size: decoding.readVarUint(d) }
    }
    return undefined
  } catch {
    return undefined
  }
}

/**
 * Snapshots in a JetStream KV bucket, one key per document. A write never replaces a
 * snapshot with an older one: it is a compare-and-set on the key's revision, and a
 * snapshot at a lower sequence than the stored one is dropped.
 *
 * A snapshot too big for one NATS message (`max_payload`, 1 MiB by default) goes to the
 * JetStream object store (chunked there, with a digest), under a name of its own
 * (document, sequence, and a random part); the KV key then names that object. The object is written
 * before the key points at it, and the object the key pointed at before is deleted only
 * once the key moved on, so a reader always finds an object (or, in a race with that
 * delete, reads the key again).
 */
export class SnapshotBucket {
  constructor(
    private readonly kv: KV,
    private readonly objects: ObjectStore,
    /** The largest KV value, in bytes (max_payload less KV_PAYLOAD_MARGIN). */
    private readonly maxInline: number,
  ) {}

  async get(doc: string): Promise<Snapshot | undefined> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const record = await this.record(doc)
      if (record === undefined) return undefined
      if ('state' in record) return record
      const state = await this.objects.getBlob(record.object)
      if (state !== null && state.length === record.size) return { seq: record.seq, state }
      // Replaced and deleted since the key was read: the key names a newer one now.
    }
    return undefined
  }

  /** Stores `snapshot` unless the bucket holds one as new; true when written. */
  async put(doc: string, snapshot: Snapshot): Promise<boolean> {
    const key = encodeDocToken(doc)
    const entry = await this.kv.get(key)
    const current = entry === null || entry.operation !== 'PUT' ? undefined : decodeSnapshot(entry.value)
    if (current !== undefined && current.seq >= snapshot.seq) return false
    let value = encodeSnapshot(snapshot)
    let object: string | undefined
    if (value.length > this.maxInline) {
      // Unique per write: two relays snapshotting the same sequence never share an object.
      object = `${key}.${snapshot.seq}.${randomBytes(6).toString('hex')}`
      await this.objects.putBlob({ name: object }, snapshot.state)
      value = encodePointer(snapshot.seq, object, snapshot.state.length)
    }
    try {
      if (entry === null) await this.kv.create(key, value)
      else await this.kv.update(key, value, entry.revision)
    } catch {
      // Another relay wrote first: its snapshot is at least as new as the one it replaced.
      if (object !== undefined) await this.deleteObject(object)
      return false
    }
    if (current !== undefined && 'object' in current && current.object !== object)
      await this.deleteObject(current.object)
    return true
  }

  private async record(doc: string): Promise<SnapshotRecord | undefined> {
    const entry = await this.kv.get(encodeDocToken(doc))
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined
    return decodeSnapshot(entry.value)
  }

  /** Best effort: an object left behind only takes room. */
  private async deleteObject(name: string): Promise<void> {
    await this.objects.delete(name).catch(() => undefined)
  }
}
