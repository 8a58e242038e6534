/**
 * Sending only the deletions a peer lacks.
 *
 * A Yjs sync step 2 carries the sender's whole delete set, because a state vector says
 * nothing about deletions. For a document with a long history that set is most of the
 * bytes of every resync, in both directions. converge.v1 lets the side asking (sync step 1)
 * add digests of its delete set: per client, the clock range is cut into 2^bits-long
 * chunks (about RANGES_PER_CHUNK deleted ranges each) and each chunk's ranges are hashed. The answering side then sends the
 * structs the asker lacks plus only its deleted ranges in chunks whose digests differ.
 *
 * Everything here works on the bytes of Yjs' V1 encoding, where a delete set is
 *   varUint clients · per client: varUint client · varUint n · n × (varUint clock · varUint len)
 * at the end of an update, after the structs.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { equalBytes, fnv1a64 } from './state-digest.js'
import type { WorkBudget } from './work-budget.js'

/** Per client, its deleted ranges as [clock, length], sorted by clock. */
export type DeleteRanges = Map<number, Array<[number, number]>>

/** Per client, the chunk size (2^bits clocks) and one 8-byte digest per chunk from clock 0. */
export type DeleteDigests = Map<number, { bits: number; digests: Uint8Array }>

/** Deleted ranges a chunk holds on average: its 8-byte digest stands for about 30 bytes of ranges. */
export const RANGES_PER_CHUNK = 8
/** Chunks per client at most. */
export const MAX_CHUNKS_PER_CLIENT = 4096
/** Chunks are at least 2^6 clocks long. */
export const MIN_CHUNK_BITS = 6

/**
 * Reads a V1 delete set as Yjs does: each client's ranges as listed (Yjs writes them sorted
 * and merged; normalizedRanges sorts any others), and a client listed twice (no Yjs encoder
 * writes that) gets both lists, the second appended. Throws when the bytes do not decode.
 */
export const readDeleteSet = (decoder: decoding.Decoder): DeleteRanges => {
  const ranges: DeleteRanges = new Map()
  const clients = decoding.readVarUint(decoder)
  for (let i = 0; i < clients; i++) {
    const client = decoding.readVarUint(decoder)
    const n = decoding.readVarUint(decoder)
    const list: Array<[number, number]> = []
    for (let j = 0; j < n; j++) list.push([decoding.readVarUint(decoder), decoding.readVarUint(decoder)])
    // Appended one by one: a spread of a long list overflows the stack.
    const known = ranges.get(client)
    if (known === undefined) ranges.set(client, list)
    else for (const range of list) known.push(range)
  }
  return ranges
}

export const writeDeleteSet = (encoder: encoding.Encoder, ranges: DeleteRanges): void => {
  const clients = [...ranges].filter(([, list]) => list.length > 0)
  encoding.writeVarUint(encoder, clients.length)
  for (const [client, list] of clients) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, list.length)
    for (const [clock, len] of list) {
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarUint(encoder, len)
    }
  }
}

/**
 * The delete set of an update that holds no structs (`[0] · delete set`, as
 * `Y.encodeStateAsUpdate(doc, ownStateVector)` makes), with the bytes of that section;
 * undefined when the update holds structs.
 */
export const deleteSetSection = (update: Uint8Array): { ranges: DeleteRanges; bytes: Uint8Array } | undefined => {
  if (update[0] !== 0) return undefined
  const bytes = update.subarray(1)
  return { ranges: readDeleteSet(decoding.createDecoder(bytes)), bytes }
}

/** Chunk size for a client's ranges: about RANGES_PER_CHUNK ranges a chunk, within the bounds above. */
const chunkBitsFor = (list: Array<[number, number]>): number => {
  const last = list[list.length - 1]
  const end = last === undefined ? 0 : last[0] + last[1]
  const chunks = Math.min(MAX_CHUNKS_PER_CLIENT, Math.max(1, Math.ceil(list.length / RANGES_PER_CHUNK)))
  let bits = MIN_CHUNK_BITS
  while (Math.ceil(end / 2 ** bits) > chunks) bits++
  return bits
}

/** Calls `visit(k, pieces)` for each chunk k < `chunks` (of 2^bits clocks) that holds deletions, with its ranges clipped to it; one walk over `list`. */
const forEachChunk = (
  list: Array<[number, number]>,
  bits: number,
  chunks: number,
  visit: (k: number, pieces: Array<[number, number]>) => void,
): void => {
  const size = 2 ** bits
  const covered = chunks * size
  let chunk = -1
  let pieces: Array<[number, number]> = []
  for (const [clock, len] of list) {
    const end = Math.min(clock + len, covered)
    let start = clock
    while (start < end) {
      const k = Math.floor(start / size)
      if (k !== chunk) {
        if (pieces.length > 0) visit(chunk, pieces)
        chunk = k
        pieces = []
      }
      const stop = Math.min(end, (k + 1) * size)
      pieces.push([start, stop - start])
      start = stop
    }
  }
  if (pieces.length > 0) visit(chunk, pieces)
}

const digestOfRanges = (ranges: Array<[number, number]>): Uint8Array => {
  const encoder = encoding.createEncoder()
  for (const [clock, len] of ranges) {
    encoding.writeVarUint(encoder, clock)
    encoding.writeVarUint(encoder, len)
  }
  return fnv1a64(encoding.toUint8Array(encoder))
}

/** Sorts and merges touching or overlapping ranges, so equal sets of deletions compare equal. */
export const normalizedRanges = (list: Array<[number, number]>): Array<[number, number]> => {
  const sorted = [...list].sort((a, b) => a[0] - b[0])
  const out: Array<[number, number]> = []
  for (const [clock, len] of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && clock <= last[0] + last[1]) last[1] = Math.max(last[1], clock + len - last[0])
    else out.push([clock, len])
  }
  return out
}

/** Digests of our deletions, for the step 1 we send. */
export const digestDeleteSet = (ranges: DeleteRanges): DeleteDigests => {
  const out: DeleteDigests = new Map()
  for (const [client, raw] of ranges) {
    const list = normalizedRanges(raw)
    if (list.length === 0) continue
    const bits = chunkBitsFor(list)
    const last = list[list.length - 1] as [number, number]
    const chunks = Math.ceil((last[0] + last[1]) / 2 ** bits)
    const digests = new Uint8Array(chunks * 8)
    const empty = digestOfRanges([])
    for (let k = 0; k < chunks; k++) digests.set(empty, k * 8)
    forEachChunk(list, bits, chunks, (k, pieces) => digests.set(digestOfRanges(pieces), k * 8))
    out.set(client, { bits, digests })
  }
  return out
}

export const encodeDeleteDigests = (digests: DeleteDigests): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, digests.size)
  for (const [client, { bits, digests: d }] of digests) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, bits)
    encoding.writeVarUint8Array(encoder, d)
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Decodes digests from a peer; throws on malformed bytes, and on chunks or chunk counts no
 * encoder writes (shorter than 2^MIN_CHUNK_BITS clocks, more than MAX_CHUNKS_PER_CLIENT):
 * `bits` = 0 would cut a long delete set into millions of one-clock chunks.
 */
export const decodeDeleteDigests = (bytes: Uint8Array): DeleteDigests => {
  const decoder = decoding.createDecoder(bytes)
  const out: DeleteDigests = new Map()
  const n = decoding.readVarUint(decoder)
  for (let i = 0; i < n; i++) {
    const client = decoding.readVarUint(decoder)
    const bits = decoding.readVarUint(decoder)
    const digests = decoding.readVarUint8Array(decoder)
    if (bits < MIN_CHUNK_BITS || bits > 53 || digests.length % 8 !== 0) throw new Error('malformed delete digests')
    if (digests.length / 8 > MAX_CHUNKS_PER_CLIENT) throw new Error('more delete digest chunks than any encoder writes')
    out.set(client, { bits, digests })
  }
  if (decoding.hasContent(decoder)) throw new Error('trailing bytes after delete digests')
  return out
}

/**
 * Our deleted ranges in the chunks where the peer's digests differ from ours (all of a
 * client it does not list). One walk over our ranges: the work is our ranges plus the
 * peer's chunks, whatever chunk size the peer chose; chunks past the peer's last digest
 * are sent without hashing (the peer has none of them). `work`, if given, is charged one
 * unit per range walked.
 */
export const deletionsNotIn = (ours: DeleteRanges, theirs: DeleteDigests, work?: WorkBudget): DeleteRanges => {
  const out: DeleteRanges = new Map()
  for (const [client, raw] of ours) {
    const list = normalizedRanges(raw)
    if (list.length === 0) continue
    const their = theirs.get(client)
    if (their === undefined) {
      out.set(client, list)
      continue
    }
    const chunks = their.digests.length / 8
    const covered = chunks * 2 ** their.bits
    const picked: Array<[number, number]> = []
    forEachChunk(list, their.bits, chunks, (k, pieces) => {
      work?.spend(pieces.length)
      if (!equalBytes(digestOfRanges(pieces), their.digests.subarray(k * 8, k * 8 + 8))) picked.push(...pieces)
    })
    // Past the peer's last chunk it has no deletions: send ours as they are, unhashed.
    work?.spend(list.length)
    for (const [clock, len] of list) {
      const start = Math.max(clock, covered)
      if (start < clock + len) picked.push([start, clock + len - start])
    }
    if (picked.length > 0) out.set(client, picked)
  }
  return out
}

/** The bytes of a delete set section for `ranges`. */
export const encodeDeleteSet = (ranges: DeleteRanges): Uint8Array => {
  const encoder = encoding.createEncoder()
  writeDeleteSet(encoder, ranges)
  return encoding.toUint8Array(encoder)
}

/**
 * Replaces the delete set at the end of `full` (an update whose delete set section is
 * `section`) with `ranges`. Returns undefined when `full` does not end with `section`,
 * so the caller sends `full` as it is.
 */
export const withDeleteSet = (full: Uint8Array, section: Uint8Array, ranges: DeleteRanges): Uint8Array | undefined => {
  if (full.length < section.length) return undefined
  const tail = full.subarray(full.length - section.length)
  if (!equalBytes(tail, section)) return undefined
  const replacement = encodeDeleteSet(ranges)
  const out = new Uint8Array(full.length - section.length + replacement.length)
  out.set(full.subarray(0, full.length - section.length))
  out.set(replacement, full.length - section.length)
  return out
}

/** A document's delete set, as a section and as ranges. */
export type DeleteSet = { ranges: DeleteRanges; bytes: Uint8Array }

/** The delete set of a loaded document. */
export const deleteSetOfDoc = (doc: Y.Doc): DeleteSet | undefined =>
  deleteSetSection(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)))

/** The delete set of a whole-document update (as a store loads it). */
export const deleteSetOfUpdate = (update: Uint8Array): DeleteSet | undefined =>
  deleteSetSection(Y.diffUpdate(update, Y.encodeStateVectorFromUpdate(update)))

/**
 * `full` (which ends with the delete set `ds`) carrying only the deletions a peer with
 * digests `theirs` lacks; `full` as it is when it does not end with `ds`.
 */
export const withDeletionsNotIn = (full: Uint8Array, ds: DeleteSet, theirs: DeleteDigests): Uint8Array =>
  withDeleteSet(full, ds.bytes, deletionsNotIn(ds.ranges, theirs)) ?? full
