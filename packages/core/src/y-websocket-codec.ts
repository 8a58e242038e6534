/**
 * The y-websocket framing: one document per socket, so frames carry no document name.
 * This is what a stock `y-websocket` WebsocketProvider sends and expects.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ConvergeError } from './errors.js'
import type { YMessage } from './messages.js'
import { malformed, readYMessageBody, writeYMessage } from './sync-codec.js'

/** Payloads from this size get a buffer of the frame's size, copied into once (lib0's growing buffers copy them twice). */
const PRESIZED_PAYLOAD_BYTES = 64 * 1024

export const encodeYWebsocketFrame = (m: YMessage): Uint8Array => {
  const encoder = encoding.createEncoder()
  const payload = 'update' in m ? m.update : undefined
  if (payload === undefined || payload.length < PRESIZED_PAYLOAD_BYTES) {
    writeYMessage(encoder, m)
    return encoding.toUint8Array(encoder)
  }
  // The message type, the sync type and the payload's length: at most 2 + 8 bytes before the payload.
  encoder.cbuf = new Uint8Array(payload.length + 16)
  writeYMessage(encoder, m)
  return encoder.bufs.length === 0 ? encoder.cbuf.subarray(0, encoder.cpos) : encoding.toUint8Array(encoder)
}

/** Decodes one frame for document `doc`. Throws a CONVERGE_MALFORMED_MESSAGE error on bad bytes. */
export const decodeYWebsocketFrame = (frame: Uint8Array, doc: string): YMessage => {
  try {
    const decoder = decoding.createDecoder(frame)
    const type = decoding.readVarUint(decoder)
    const m = readYMessageBody(decoder, type, doc)
    if (m === undefined) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `unknown message type ${type}`)
    return m
  } catch (err) {
    throw malformed(err)
  }
}
