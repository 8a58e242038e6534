/**
 * A log entry: every update one document received in one group commit, in append order.
 * One entry per document per batch keeps LevelDB writes (and keys to delete at
 * compaction) proportional to batches, not to updates.
 *
 *   chunk = LOG_CHUNK_V1 (update length as varuint, update bytes)*
 */

import { ConvergeError } from '@converge/core'
import * as decoding from 'lib0/decoding'

const LOG_CHUNK_V1 = 1

/**
 * Collects updates into one log entry. Each update is copied once as it is added, and
 * the entry is laid out once, at its exact size, when the batch is written (an encoder
 * growing by doubling would allocate about three times the batch's bytes).
 */
export class LogChunkWriter {
  private readonly updates: Uint8Array[] = []
  /** Updates written. */
  count = 0
  /** Bytes of the updates written (without framing). */
  bytes = 0

  /** Copies `update` in (the caller may reuse its buffer afterwards) and returns the copy. */
  add(update: Uint8Array): Uint8Array {
    const copy = update.slice()
    this.updates.push(copy)
    this.count++
    this.bytes += update.length
    return copy
  }

  finish(): Uint8Array {
    let size = 1
    for (const u of this.updates) size += varUintLength(u.length) + u.length
    const out = new Uint8Array(size)
    out[0] = LOG_CHUNK_V1
    let at = 1
    for (const u of this.updates) {
      at = writeVarUintAt(out, at, u.length)
      out.set(u, at)
      at += u.length
    }
    return out
  }
}

/** Bytes of `n` as a varuint (lib0's encoding: 7 bits a byte, low bits first). */
const varUintLength = (n: number): number => {
  let length = 1
  for (let rest = n; rest > 0x7f; rest = Math.floor(rest / 128)) length++
  return length
}

/** Writes `n` as a varuint at `at` in `out`; returns the offset after it. */
const writeVarUintAt = (out: Uint8Array, at: number, n: number): number => {
  let rest = n
  let i = at
  while (rest > 0x7f) {
    out[i++] = 0x80 | (rest & 0x7f)
    rest = Math.floor(rest / 128)
  }
  out[i++] = rest
  return i
}

/** The updates of a log entry, as views on its bytes. */
export const readLogChunk = (chunk: Uint8Array): Uint8Array[] => {
  const decoder = decoding.createDecoder(chunk)
  const version = decoding.readUint8(decoder)
  if (version !== LOG_CHUNK_V1) {
    throw new ConvergeError('CONVERGE_INTERNAL', `unknown log entry format ${version}`)
  }
  const updates: Uint8Array[] = []
  while (decoding.hasContent(decoder)) updates.push(decoding.readVarUint8Array(decoder))
  return updates
}
