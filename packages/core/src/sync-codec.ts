/**
 * The y-protocols message family (sync, awareness, auth, query-awareness), byte for
 * byte as y-websocket writes it. Each write has its read beside it.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ConvergeError } from './errors.js'
import { MessageType, SyncType, type YMessage } from './messages.js'

/** A sync message: its sub-type (step 1, step 2, update), then its state vector or update. */
const writeSync = (encoder: encoding.Encoder, sub: number, data: Uint8Array): void => {
  encoding.writeVarUint(encoder, MessageType.sync)
  encoding.writeVarUint(encoder, sub)
  encoding.writeVarUint8Array(encoder, data)
}

export const writeYMessage = (encoder: encoding.Encoder, m: YMessage): void => {
  switch (m.type) {
    case 'sync-step1':
      writeSync(encoder, SyncType.step1, m.stateVector)
      return
    case 'sync-step2':
      writeSync(encoder, SyncType.step2, m.update)
      return
    case 'update':
      writeSync(encoder, SyncType.update, m.update)
      return
    case 'awareness':
      encoding.writeVarUint(encoder, MessageType.awareness)
      encoding.writeVarUint8Array(encoder, m.update)
      return
    case 'query-awareness':
      encoding.writeVarUint(encoder, MessageType.queryAwareness)
      return
    case 'auth-denied':
      encoding.writeVarUint(encoder, MessageType.auth)
      encoding.writeVarUint(encoder, 0)
      encoding.writeVarString(encoder, m.reason)
      return
  }
}

/**
 * Reads the body of a y-protocols message whose type number was already read.
 * Returns undefined when `type` is not of this family.
 */
export const readYMessageBody = (decoder: decoding.Decoder, type: number, doc: string): YMessage | undefined => {
  switch (type) {
    case MessageType.sync: {
      const sub = decoding.readVarUint(decoder)
      const data = decoding.readVarUint8Array(decoder)
      if (sub === SyncType.step1) return { type: 'sync-step1', doc, stateVector: data }
      if (sub === SyncType.step2) return { type: 'sync-step2', doc, update: data }
      if (sub === SyncType.update) return { type: 'update', doc, update: data }
      throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `unknown sync message type ${sub}`)
    }
    case MessageType.awareness:
      return { type: 'awareness', doc, update: decoding.readVarUint8Array(decoder) }
    case MessageType.queryAwareness:
      return { type: 'query-awareness', doc }
    case MessageType.auth: {
      const sub = decoding.readVarUint(decoder)
      if (sub !== 0) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `unknown auth message type ${sub}`)
      return { type: 'auth-denied', doc, reason: decoding.readVarString(decoder) }
    }
    default:
      return undefined
  }
}

/** Wraps any exception thrown while decoding untrusted bytes into a coded error. */
export const malformed = (err: unknown): ConvergeError =>
  err instanceof ConvergeError
    ? err
    : new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `malformed message: ${(err as Error)?.message ?? err}`, {
        cause: err,
      })
