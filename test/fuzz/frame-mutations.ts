/**
 * Mutations of a laid-out frame: each returns the bytes (or a string, sent as a text
 * frame) and a name for the report. They aim where decoders trust the input: length
 * prefixes, varints, the message type, and the Yjs payload behind a correct framing.
 */
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import type { FuzzFraming, LaidOutFrame } from './fuzz-frames.js'

type Rng = prng.PRNG

export interface MutatedFrame {
  /** A string is sent as a text frame. */
  data: Uint8Array | string
  /** Send the bytes as a text frame (they need not be UTF-8). */
  asText?: boolean
  mutation: string
}

/** Bytes to send as a text frame. */
interface TextBytes {
  text: Uint8Array
}

const varUint = (n: number) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, n)
  return encoding.toUint8Array(encoder)
}

/** Length in bytes of the varUint at `at` (up to the end of the frame if unterminated). */
const varUintLength = (bytes: Uint8Array, at: number) => {
  let i = at
  while (i < bytes.length && (bytes[i] as number) >= 0x80) i++
  return Math.min(i + 1, bytes.length) - at
}

const readVarUintAt = (bytes: Uint8Array, at: number) => {
  let n = 0
  let mult = 1
  for (let i = at; i < bytes.length; i++) {
    const b = bytes[i] as number
    n += (b & 0x7f) * mult
    mult *= 128
    if (b < 0x80) break
  }
  return n
}

const splice = (bytes: Uint8Array, at: number, remove: number, insert: Uint8Array) => {
  const out = new Uint8Array(bytes.length - remove + insert.length)
  out.set(bytes.subarray(0, at), 0)
  out.set(insert, at)
  out.set(bytes.subarray(at + remove), at + insert.length)
  return out
}

const replaceVarUint = (bytes: Uint8Array, at: number, value: Uint8Array) =>
  splice(bytes, at, varUintLength(bytes, at), value)

/** A varint past 2^53 (ten 0xff bytes, then a terminator), or one that never terminates. */
const hugeVarint = (rng: Rng) => {
  if (prng.bool(rng)) return new Uint8Array([...new Array(prng.int32(rng, 8, 40)).fill(0xff), 0x7f])
  return new Uint8Array(prng.int32(rng, 1, 16)).fill(0x80)
}

/** Message type numbers no framing uses (and, for y-websocket, the converge.v1-only ones). */
const unknownType = (rng: Rng, framing: FuzzFraming) => {
  const r = prng.real53(rng)
  if (framing === 'y-websocket' && r < 0.3) return prng.int32(rng, 16, 23)
  if (r < 0.6) return prng.int32(rng, 4, 15)
  if (r < 0.9) return prng.int32(rng, 24, 300)
  return prng.int53(rng, 2 ** 20, 2 ** 53 - 1)
}

const flipBits = (rng: Rng, bytes: Uint8Array) => {
  const out = bytes.slice()
  if (out.length === 0) return out
  for (let i = prng.int32(rng, 1, 8); i > 0; i--) {
    const at = prng.int32(rng, 0, out.length - 1)
    out[at] = (out[at] as number) ^ (1 << prng.int32(rng, 0, 7))
  }
  return out
}

const overwriteBytes = (rng: Rng, bytes: Uint8Array) => {
  const out = bytes.slice()
  if (out.length === 0) return out
  for (let i = prng.int32(rng, 1, 4); i > 0; i--) {
    out[prng.int32(rng, 0, out.length - 1)] = prng.oneOf(rng, [0x00, 0x7f, 0x80, 0xff, prng.int32(rng, 0, 255)])
  }
  return out
}

const truncate = (rng: Rng, bytes: Uint8Array) => bytes.slice(0, prng.int32(rng, 0, Math.max(0, bytes.length - 1)))

const insertRandom = (rng: Rng, bytes: Uint8Array) =>
  splice(bytes, prng.int32(rng, 0, bytes.length), 0, prng.uint8Array(rng, prng.int32(rng, 1, 8)))

/** Mutations of a Yjs payload, re-framed with a correct length so the bytes reach Yjs. */
const payloadMutations: Array<[string, (rng: Rng, p: Uint8Array) => Uint8Array]> = [
  ['payload-bit-flip', flipBits],
  ['payload-overwrite', overwriteBytes],
  ['payload-truncate', truncate],
  ['payload-insert', insertRandom],
  [
    'payload-huge-varint',
    (rng, p) =>
      p.length === 0 ? hugeVarint(rng) : replaceVarUint(p, prng.int32(rng, 0, p.length - 1), hugeVarint(rng)),
  ],
  [
    'payload-inflate-varint',
    (rng, p) => {
      if (p.length === 0) return p
      const at = prng.int32(rng, 0, p.length - 1)
      return replaceVarUint(p, at, varUint(readVarUintAt(p, at) + prng.int32(rng, 1, 2 ** 20)))
    },
  ],
]

/** Mutations of the whole frame. */
const frameMutations: Array<
  [string, (rng: Rng, f: LaidOutFrame, framing: FuzzFraming) => Uint8Array | string | TextBytes]
> = [
  ['truncate', (rng, f) => truncate(rng, f.bytes)],
  ['bit-flip', (rng, f) => flipBits(rng, f.bytes)],
  ['overwrite', (rng, f) => overwriteBytes(rng, f.bytes)],
  ['insert', (rng, f) => insertRandom(rng, f.bytes)],
  ['trailing-bytes', (rng, f) => splice(f.bytes, f.bytes.length, 0, prng.uint8Array(rng, prng.int32(rng, 1, 8)))],
  [
    'inflate-length',
    (rng, f) => {
      const at = prng.oneOf(rng, f.lengthsAt.length > 0 ? f.lengthsAt : [f.typeAt])
      const n = readVarUintAt(f.bytes, at)
      const inflated = prng.oneOf(rng, [n + 1, n + prng.int32(rng, 2, 64), n * 2 + 1, 2 ** 31, 2 ** 53 - 1])
      return replaceVarUint(f.bytes, at, varUint(inflated))
    },
  ],
  [
    'deflate-length',
    (rng, f) => {
      const at = prng.oneOf(rng, f.lengthsAt.length > 0 ? f.lengthsAt : [f.typeAt])
      const n = readVarUintAt(f.bytes, at)
      return replaceVarUint(f.bytes, at, varUint(Math.max(0, n - prng.int32(rng, 1, 8))))
    },
  ],
  ['huge-varint', (rng, f) => replaceVarUint(f.bytes, prng.oneOf(rng, [f.typeAt, ...f.lengthsAt]), hugeVarint(rng))],
  ['unknown-type', (rng, f, framing) => replaceVarUint(f.bytes, f.typeAt, varUint(unknownType(rng, framing)))],
  ['empty', () => new Uint8Array(0)],
  ['random-bytes', (rng) => prng.uint8Array(rng, prng.int32(rng, 1, 256))],
  // Text frames: the frame's bytes read as Latin-1, JSON, or plain words.
  ['text-latin1', (_rng, f) => String.fromCharCode(...f.bytes.subarray(0, 4096))],
  ['text-json', (rng) => JSON.stringify({ type: 'sync', doc: prng.word(rng), update: [1, 2, 3] })],
  ['text-word', (rng) => prng.word(rng, 0, 40)],
  // The frame's own bytes in a text frame: mostly not UTF-8, which the WebSocket layer refuses (1007).
  ['text-raw-bytes', (_rng, f) => ({ text: f.bytes })],
]

/** One mutation of `frame`, picked at random (payload mutations only where there is a payload). */
export const mutate = (rng: Rng, frame: LaidOutFrame, framing: FuzzFraming): MutatedFrame => {
  if (frame.payload !== undefined && frame.withPayload !== undefined && prng.real53(rng) < 0.4) {
    const [name, fn] = prng.oneOf(rng, payloadMutations)
    return { data: frame.withPayload(fn(rng, frame.payload)), mutation: name }
  }
  const [name, fn] = prng.oneOf(rng, frameMutations)
  const data = fn(rng, frame, framing)
  if (typeof data === 'string' || data instanceof Uint8Array) return { data, mutation: name }
  return { data: data.text, asText: true, mutation: name }
}

/** Two frames glued into one (the second's bytes become trailing garbage of the first). */
export const concatenate = (a: LaidOutFrame, b: LaidOutFrame): MutatedFrame => ({
  data: splice(a.bytes, a.bytes.length, 0, b.bytes),
  mutation: 'concatenated',
})
