/**
 * Valid frames of both framings, with their layout (where the type and the length
 * prefixes sit), so the mutations can aim at the fields a decoder trusts.
 */
import { encodeMuxFrame, encodeYWebsocketFrame, type Message, type YMessage } from '@converge/core'
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import { anyAwareness, anyStateVector, anyUpdate } from './fuzz-updates.js'

type Rng = prng.PRNG

export type FuzzFraming = 'converge.v1' | 'y-websocket'

/** A frame before mutation, and where its varUint fields are. */
export interface LaidOutFrame {
  bytes: Uint8Array
  /** What the frame is, for reports: 'update', 'sync-step1', 'hello'... */
  label: string
  /** Offset of the message type varUint. */
  typeAt: number
  /** Offsets of varUint length prefixes (document name, payload). */
  lengthsAt: number[]
  /** Re-encodes the frame around another payload (for mutations inside a Yjs update). */
  withPayload?: (payload: Uint8Array) => Uint8Array
  payload?: Uint8Array
}

const varUintSize = (n: number) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, n)
  return encoding.length(encoder)
}

const utf8 = new TextEncoder()

/**
 * The documents fuzzed frames address: a small pool per generation, so state accumulates
 * on a few documents; a long run moves to a new generation now and then, so no document
 * grows without bound (the relay serves each whole in a step 2).
 */
export const fuzzDocs = (generation: number): string[] =>
  ['0', '1', '2', '3', 'ü ✓', `long-${'x'.repeat(400)}`].map((d) => `fuzz-${generation}/${d}`)

const payloadOf = (m: Message): Uint8Array | undefined => {
  switch (m.type) {
    case 'sync-step1':
    case 'saved':
      return m.stateVector
    case 'sync-step2':
    case 'update':
    case 'awareness':
      return m.update
    default:
      return undefined
  }
}

const withPayloadOf = (m: Message, payload: Uint8Array): Message => {
  switch (m.type) {
    case 'sync-step1':
    case 'saved':
      return { ...m, stateVector: payload }
    case 'sync-step2':
    case 'update':
    case 'awareness':
      return { ...m, update: payload }
    default:
      return m
  }
}

/** Lays out a message in the given framing. */
export const layOut = (m: Message, framing: FuzzFraming): LaidOutFrame => {
  const encode = (x: Message) => (framing === 'converge.v1' ? encodeMuxFrame(x) : encodeYWebsocketFrame(x as YMessage))
  const bytes = encode(m)
  const lengthsAt: number[] = []
  let typeAt = 0
  if (framing === 'converge.v1') {
    const name = utf8.encode('doc' in m ? m.doc : '')
    lengthsAt.push(0)
    typeAt = varUintSize(name.length) + name.length
  }
  const payload = payloadOf(m)
  if (payload !== undefined) lengthsAt.push(bytes.length - payload.length - varUintSize(payload.length))
  return {
    bytes,
    label: m.type,
    typeAt,
    lengthsAt,
    payload,
    withPayload: payload === undefined ? undefined : (p) => encode(withPayloadOf(m, p)),
  }
}

/** A y-protocols message (the family both framings carry) for `doc`. */
const yMessage = (rng: Rng, doc: string): YMessage => {
  const r = prng.real53(rng)
  if (r < 0.2) return { type: 'sync-step1', doc, stateVector: anyStateVector(rng) }
  if (r < 0.4) return { type: 'sync-step2', doc, update: anyUpdate(rng) }
  if (r < 0.75) return { type: 'update', doc, update: anyUpdate(rng) }
  if (r < 0.92) return { type: 'awareness', doc, update: anyAwareness(rng) }
  if (r < 0.99) return { type: 'query-awareness', doc }
  return { type: 'auth-denied', doc, reason: prng.word(rng) }
}

/** A valid converge.v1 message after the handshake: mostly document messages, some control ones. */
const muxMessage = (rng: Rng, docs: string[]): Message => {
  const doc = prng.oneOf(rng, docs)
  const r = prng.real53(rng)
  if (r < 0.75) return yMessage(rng, doc)
  if (r < 0.8) return { type: 'subscribe', doc }
  if (r < 0.83) return { type: 'unsubscribe', doc }
  if (r < 0.87) return { type: 'saved', doc, seq: prng.int53(rng, 0, 2 ** 53 - 1), stateVector: anyStateVector(rng) }
  if (r < 0.91) return { type: 'ping' }
  if (r < 0.93) return { type: 'pong' }
  if (r < 0.96) {
    const entries = Array.from({ length: prng.int32(rng, 0, 3) }, () => ({
      doc: prng.oneOf(rng, docs),
      digest: prng.uint8Array(rng, 16),
    }))
    const bucketBits = prng.int32(rng, 0, 8)
    const buckets = Array.from({ length: prng.int32(rng, 0, 4) }, () => prng.int32(rng, 0, 2 ** bucketBits - 1))
    return { type: 'inventory', bucketBits, buckets, entries, final: prng.bool(rng) }
  }
  if (r < 0.99) return { type: 'error', doc: prng.bool(rng) ? '' : doc, code: prng.word(rng), message: prng.word(rng) }
  return hello(rng, 'client')
}

/** A valid hello. */
export const hello = (rng: Rng, role: 'client' | 'relay'): Message => ({
  type: 'hello',
  version: 1,
  peerId: `fuzz-${prng.word(rng, 4, 8)}`,
  role,
  token: prng.bool(rng) ? '' : prng.word(rng),
})

/**
 * A valid frame in `framing`: about one of `docs` (converge.v1), or about `doc`, the
 * socket's document (y-websocket).
 */
export const validFrame = (rng: Rng, framing: FuzzFraming, docs: string[], doc: string): LaidOutFrame =>
  layOut(framing === 'converge.v1' ? muxMessage(rng, docs) : yMessage(rng, doc), framing)
