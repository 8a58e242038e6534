/**
 * converge.v1 framing: many documents on one socket. Every frame is
 *   varString docName · varUint messageType · body
 * where docName is '' for connection-level messages. PROTOCOL.md gives every body.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { isValidDocName } from './doc-name.js'
import { ConvergeError } from './errors.js'
import { MAX_BUCKET_BITS } from './inventory.js'
import { type InventoryEntry, type Message, MessageType, type PeerRole } from './messages.js'
import { malformed, readYMessageBody, writeYMessage } from './sync-codec.js'

/** The WebSocket subprotocol name of this framing. */
export const MUX_PROTOCOL = 'converge.v1'
/** The protocol version carried in hello. */
export const PROTOCOL_VERSION = 1

const roles: readonly PeerRole[] = ['client', 'relay']

/** The head of every frame: the document's name ('' for connection-level messages), then the message type. */
const writeHead = (encoder: encoding.Encoder, doc: string, type: number): void => {
  encoding.writeVarString(encoder, doc)
  encoding.writeVarUint(encoder, type)
}

export const encodeMuxFrame = (m: Message): Uint8Array => {
  const encoder = encoding.createEncoder()
  switch (m.type) {
    case 'hello':
      writeHead(encoder, '', MessageType.hello)
      encoding.writeVarUint(encoder, m.version)
      encoding.writeVarString(encoder, m.peerId)
      encoding.writeVarUint(encoder, roles.indexOf(m.role))
      encoding.writeVarString(encoder, m.token)
      break
    case 'inventory-summary':
      writeHead(encoder, '', MessageType.inventorySummary)
      encoding.writeVarUint(encoder, m.bucketBits)
      encoding.writeVarUint8Array(encoder, m.digests)
      break
    case 'inventory':
      writeHead(encoder, '', MessageType.inventory)
      encoding.writeVarUint(encoder, m.final ? 1 : 0)
      encoding.writeVarUint(encoder, m.bucketBits)
      encoding.writeVarUint(encoder, m.buckets.length)
      for (const b of m.buckets) encoding.writeVarUint(encoder, b)
      encoding.writeVarUint(encoder, m.entries.length)
      for (const e of m.entries) {
        encoding.writeVarString(encoder, e.doc)
        encoding.writeVarUint8Array(encoder, e.digest)
      }
      break
    case 'error':
      writeHead(encoder, m.doc, MessageType.error)
      encoding.writeVarString(encoder, m.code)
      encoding.writeVarString(encoder, m.message)
      break
    case 'ping':
    case 'pong':
      writeHead(encoder, '', m.type === 'ping' ? MessageType.ping : MessageType.pong)
      break
    case 'subscribe':
    case 'unsubscribe':
      writeHead(encoder, m.doc, m.type === 'subscribe' ? MessageType.subscribe : MessageType.unsubscribe)
      break
    case 'sync-step1-deletes':
      writeHead(encoder, m.doc, MessageType.syncStep1Deletes)
      encoding.writeVarUint8Array(encoder, m.stateVector)
      encoding.writeVarUint8Array(encoder, m.deleteDigests)
      break
    case 'stateless':
      writeHead(encoder, m.doc, MessageType.stateless)
      encoding.writeVarString(encoder, m.payload)
      break
    case 'saved':
      writeHead(encoder, m.doc, MessageType.saved)
      encoding.writeVarUint(encoder, m.seq)
      encoding.writeVarUint8Array(encoder, m.stateVector)
      break
    default:
      encoding.writeVarString(encoder, m.doc)
      writeYMessage(encoder, m)
  }
  return encoding.toUint8Array(encoder)
}

const fail = (message: string): never => {
  throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', message)
}

const readConnectionMessage = (decoder: decoding.Decoder, type: number): Message => {
  switch (type) {
    case MessageType.hello: {
      const version = decoding.readVarUint(decoder)
      const peerId = decoding.readVarString(decoder)
      const role = roles[decoding.readVarUint(decoder)] ?? fail('unknown peer role')
      const token = decoding.readVarString(decoder)
      return { type: 'hello', version, peerId, role, token }
    }
    case MessageType.inventorySummary: {
      const bucketBits = decoding.readVarUint(decoder)
      if (bucketBits > MAX_BUCKET_BITS) fail('too many inventory buckets')
      const digests = decoding.readVarUint8Array(decoder)
      if (digests.length !== 8 << bucketBits) fail('inventory summary of the wrong size')
      return { type: 'inventory-summary', bucketBits, digests }
    }
    case MessageType.inventory: {
      const final = decoding.readVarUint(decoder) === 1
      const bucketBits = decoding.readVarUint(decoder)
      if (bucketBits > MAX_BUCKET_BITS) fail('too many inventory buckets')
      const bucketCount = decoding.readVarUint(decoder)
      if (bucketCount > decoder.arr.length - decoder.pos) fail('inventory bucket count exceeds frame')
      const buckets: number[] = []
      for (let i = 0; i < bucketCount; i++) {
        const b = decoding.readVarUint(decoder)
        if (b >= 1 << bucketBits) fail('inventory bucket out of range')
        buckets.push(b)
      }
      const count = decoding.readVarUint(decoder)
      // Every entry takes at least 2 bytes, so a count beyond that is a lie; refuse it
      // before allocating anything.
      if (count * 2 > decoder.arr.length - decoder.pos) fail('inventory count exceeds frame')
      const entries: InventoryEntry[] = []
      for (let i = 0; i < count; i++) {
        const doc = decoding.readVarString(decoder)
        if (!isValidDocName(doc)) fail('invalid document name in inventory')
        entries.push({ doc, digest: decoding.readVarUint8Array(decoder) })
      }
      return { type: 'inventory', bucketBits, buckets, entries, final }
    }
    case MessageType.error:
      return { type: 'error', doc: '', code: decoding.readVarString(decoder), message: decoding.readVarString(decoder) }
    case MessageType.ping:
      return { type: 'ping' }
    case MessageType.pong:
      return { type: 'pong' }
    default:
      return fail(`unknown connection message type ${type}`)
  }
}

const readDocMessage = (decoder: decoding.Decoder, type: number, doc: string): Message => {
  switch (type) {
    case MessageType.subscribe:
      return { type: 'subscribe', doc }
    case MessageType.unsubscribe:
      return { type: 'unsubscribe', doc }
    case MessageType.saved:
      return {
        type: 'saved',
        doc,
        seq: decoding.readVarUint(decoder),
        stateVector: decoding.readVarUint8Array(decoder),
      }
    case MessageType.syncStep1Deletes:
      return {
        type: 'sync-step1-deletes',
        doc,
        stateVector: decoding.readVarUint8Array(decoder),
        deleteDigests: decoding.readVarUint8Array(decoder),
      }
    case MessageType.error:
      return { type: 'error', doc, code: decoding.readVarString(decoder), message: decoding.readVarString(decoder) }
    case MessageType.stateless:
      return { type: 'stateless', doc, payload: decoding.readVarString(decoder) }
    default:
      return readYMessageBody(decoder, type, doc) ?? fail(`unknown message type ${type}`)
  }
}

/** Decodes one converge.v1 frame. Throws a CONVERGE_MALFORMED_MESSAGE error on bad bytes. */
export const decodeMuxFrame = (frame: Uint8Array): Message => {
  try {
    const decoder = decoding.createDecoder(frame)
    const doc = decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    let m: Message
    if (doc === '') {
      m = readConnectionMessage(decoder, type)
    } else {
      if (!isValidDocName(doc)) fail('invalid document name')
      m = readDocMessage(decoder, type, doc)
    }
    if (decoding.hasContent(decoder)) fail('trailing bytes after message')
    return m
  } catch (err) {
    throw malformed(err)
  }
}
