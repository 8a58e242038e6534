/**
 * A log entry: every update one document received in one group commit, in append order.
 * One entry per document per batch keeps LevelDB writes (and keys to delete at
 * compaction) proportional to batches, not to updates.
 *
 *   chunk = LOG_CHUNK_V1 (update length as varuint, update bytes)*
 */

import { ConvergeError } from '@converge/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

const LOG_CHUNK_V1 = 1

/** Collects updates into one log entry. */
export class LogChunkWriter {
  private readonly encoder = encoding.createEncoder()
  /** Updates written. */
  count = 0
  /** Bytes of the updates written (without framing). */
  bytes = 0

  constructor() {
    encoding.writeUint8(this.encoder, LOG_CHUNK_V1)
  }

  /** Copies `update` in: the caller may reuse its buffer afterwards. */
  add(update: Uint8Array): void {
    encoding.writeVarUint8Array(this.encoder, update)
    this.count++
    this.bytes += update.length
  }

  finish(): Uint8Array {
    return encoding.toUint8Array(this.encoder)
  }
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
