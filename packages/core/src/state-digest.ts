/**
 * Digests of a document's state for anti-entropy: equal states give equal digests,
 * so two peers compare documents by exchanging a few bytes. The digest covers the state
 * vector and the delete set (a delete does not advance the state vector, so the state
 * vector alone would miss a peer's deletions).
 */
import * as Y from 'yjs'

const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK = 0xffffffffffffffffn

/** 64-bit FNV-1a over the given byte arrays, as 8 bytes big-endian. Not cryptographic. */
export const fnv1a64 = (...parts: Uint8Array[]): Uint8Array => {
  // Two 32-bit halves keep the inner loop on small integers; BigInt only at the end.
  let hi = Number(FNV_OFFSET >> 32n)
  let lo = Number(FNV_OFFSET & 0xffffffffn)
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      // `^` yields a signed 32-bit integer: back to unsigned, or the carry below goes wrong.
      lo = (lo ^ (part[i] as number)) >>> 0
      // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64: lo·0x1b3 feeds both halves, hi·0x1b3
      // and lo·2^8 feed the high half.
      const loMul = lo * 0x1b3
      const carry = Math.floor(loMul / 0x100000000)
      const newLo = loMul >>> 0
      hi = (Math.imul(hi, 0x1b3) + carry + lo * 256) >>> 0
      lo = newLo
    }
  }
  const out = new Uint8Array(8)
  const view = new DataView(out.buffer)
  view.setUint32(0, hi >>> 0)
  view.setUint32(4, lo >>> 0)
  return out
}

/** Reference implementation with BigInt, for tests of the fast path. */
export const fnv1a64Reference = (...parts: Uint8Array[]): Uint8Array => {
  let h = FNV_OFFSET
  for (const part of parts) {
    for (const b of part) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK
  }
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, h)
  return out
}

/** The empty document: no structs, no deletes. */
export const EMPTY_UPDATE = new Uint8Array([0, 0])
export const EMPTY_STATE_VECTOR = new Uint8Array([0])

/** Digest of a state given as one (merged) update. */
export const digestOfUpdate = (update: Uint8Array): Uint8Array => {
  const sv = Y.encodeStateVectorFromUpdate(update)
  // diffUpdate against its own state vector leaves the delete set (plus any structs
  // beyond a gap, which are part of the state too).
  return fnv1a64(sv, Y.diffUpdate(update, sv))
}

/** Digest of a loaded document; equals digestOfUpdate(Y.encodeStateAsUpdate(doc)). */
export const digestOfDoc = (doc: Y.Doc): Uint8Array => digestOfUpdate(Y.encodeStateAsUpdate(doc))

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
