/**
 * Reads the structs of a V1 update without building them: no Item, ID or content object
 * per struct, only where each struct's bytes are, its clock and length, and the ids it
 * needs first. Y.decodeUpdate of a 1.4 MiB document allocates some 70k structs and their
 * strings, and its garbage costs as much as the decoding; a relay only needs to know where
 * to cut the bytes (encoded-splitter.ts) or which clocks they cover (a store's state vector).
 *
 * The lengths are Yjs's own: a string counts its UTF-16 code units as lib0 decodes it (only
 * a string with a byte past ASCII is decoded for that), any other content what its Yjs class
 * says. Malformed bytes throw, as Y.decodeUpdate would.
 */
import * as decoding from 'lib0/decoding'
import { type DeleteSet, readDeleteSet } from './delete-set-chunks.js'

/** Fields per struct in `ScannedUpdate.table`. */
export const STRIDE = 9
/** Byte offset of the struct's first byte (its info byte). */
export const START = 0
/** Byte offset just past the struct. */
export const END = 1
export const CLOCK = 2
export const LENGTH = 3
/** The info byte's content ref: 0 a GC, 10 a Skip, else an Item's content (1–9). */
export const REF = 4
/** The origin's client and clock, NONE without one. */
export const ORIGIN_CLIENT = 5
export const ORIGIN_CLOCK = 6
/**
 * The other id a receiver needs before the struct applies, NONE without one: the right
 * origin, or the parent item's id when the struct names its parent (no origin on either side).
 */
export const NEED_CLIENT = 7
export const NEED_CLOCK = 8
/** No id; also the largest number a table holds plus one (a table holds 32-bit numbers). */
export const NONE = 0xffff_ffff

export const GC_REF = 0
export const SKIP_REF = 10

/** One client's section of the update: its structs are `count` rows from row `first`. */
export interface ScannedRun {
  readonly client: number
  readonly first: number
  readonly count: number
  /** Where its bytes start (its struct count) and end, in the update. */
  readonly start: number
  readonly end: number
  /** The clocks its structs cover, [from, to) pairs: one pair per run of structs with no Skip between them. */
  readonly ranges: number[]
}

export interface ScannedUpdate {
  readonly bytes: Uint8Array
  /**
   * STRIDE numbers per struct, in the order of the bytes; undefined when not asked for, or
   * when some number does not fit in 32 bits (no such client id or clock in practice).
   * 32-bit numbers keep it small: writing it costs the scan's time in fresh pages of memory.
   */
  readonly table: Uint32Array | undefined
  /** The client sections, in the order of the bytes. */
  readonly runs: readonly ScannedRun[]
  /** Some struct is a Skip: the update has a gap in some client's clocks. */
  readonly hasSkips: boolean
  /** Where the delete set starts. */
  readonly deleteSetAt: number
}

/** A struct table's rows before the first growth, per byte of update: most structs take 8 bytes or more. */
const ROWS_PER_BYTE = 1 / 8

/**
 * Reads `update`'s struct sections (see ScannedUpdate), with the table of structs when
 * `withTable`; throws when they do not decode.
 */
export const scanUpdate = (update: Uint8Array, withTable = true): ScannedUpdate => {
  const decoder = decoding.createDecoder(update)
  let table: Uint32Array | undefined = withTable
    ? new Uint32Array(STRIDE * Math.max(64, Math.ceil(update.length * ROWS_PER_BYTE)))
    : undefined
  let rows = 0
  let hasSkips = false
  const runs: ScannedRun[] = []
  const sections = decoding.readVarUint(decoder)
  for (let s = 0; s < sections; s++) {
    const start = decoder.pos
    const count = decoding.readVarUint(decoder)
    const client = decoding.readVarUint(decoder)
    let clock = decoding.readVarUint(decoder)
    const ranges: number[] = []
    let from = clock
    const first = rows
    for (let i = 0; i < count; i++) {
      const at = decoder.pos
      const info = readByte(decoder)
      const ref = info & 31
      let length: number
      let originClient = NONE
      let originClock = NONE
      let needClient = NONE
      let needClock = NONE
      /** Some id read is past 32 bits: no table. */
      let wide = false
      if (info === SKIP_REF) {
        hasSkips = true
        length = decoding.readVarUint(decoder)
        if (clock > from) ranges.push(from, clock)
        from = clock + length
      } else if (ref === GC_REF) {
        length = decoding.readVarUint(decoder)
      } else {
        const hasOrigin = (info & 0x80) !== 0
        const hasRightOrigin = (info & 0x40) !== 0
        if (hasOrigin) {
          originClient = decoding.readVarUint(decoder)
          originClock = decoding.readVarUint(decoder)
          wide ||= originClient >= NONE || originClock >= NONE
        }
        if (hasRightOrigin) {
          needClient = decoding.readVarUint(decoder)
          needClock = decoding.readVarUint(decoder)
          wide ||= needClient >= NONE || needClock >= NONE
        }
        if (!hasOrigin && !hasRightOrigin) {
          // The parent: a root type's name, or an item's id.
          if (decoding.readVarUint(decoder) === 1) skipString(decoder)
          else {
            needClient = decoding.readVarUint(decoder)
            needClock = decoding.readVarUint(decoder)
            wide ||= needClient >= NONE || needClock >= NONE
          }
          if ((info & 0x20) !== 0) skipString(decoder)
        }
        length = skipContent(decoder, ref)
      }
      if (table !== undefined) {
        if (wide || clock + length >= NONE || client >= NONE) table = undefined
        else {
          if ((rows + 1) * STRIDE > table.length) {
            const grown = new Uint32Array(table.length * 2)
            grown.set(table)
            table = grown
          }
          const row = rows * STRIDE
          table[START + row] = at
          table[END + row] = decoder.pos
          table[CLOCK + row] = clock
          table[LENGTH + row] = length
          table[REF + row] = info === SKIP_REF ? SKIP_REF : ref
          table[ORIGIN_CLIENT + row] = originClient
          table[ORIGIN_CLOCK + row] = originClock
          table[NEED_CLIENT + row] = needClient
          table[NEED_CLOCK + row] = needClock
        }
      }
      clock += length
      rows++
    }
    if (clock > from) ranges.push(from, clock)
    runs.push({ client, first, count, ranges, start, end: decoder.pos })
  }
  return { bytes: update, table, runs, hasSkips, deleteSetAt: decoder.pos }
}

/**
 * Calls `add` with the clock ranges [from, to) an update's structs cover, one per run of
 * structs with no Skip between them (a store's state vector, without decoding a struct).
 * A client listed in two sections (no Yjs writes that) counts with its last one alone:
 * Y.applyUpdate keeps only that one, so no clock a Y.Doc would not hold is counted (a peer
 * holding them would never send them). Throws when the structs do not decode.
 */
export const forEachClockRange = (
  update: Uint8Array,
  add: (client: number, from: number, to: number) => void,
): void => {
  const runs = scanUpdate(update, false).runs
  const last = new Map<number, ScannedRun>()
  for (const run of runs) last.set(run.client, run)
  for (const run of runs) {
    if (last.get(run.client) !== run) continue
    const { client, ranges } = run
    for (let i = 0; i < ranges.length; i += 2) add(client, ranges[i] as number, ranges[i + 1] as number)
  }
}

/**
 * The delete set of a scanned update: its ranges by client, as the update lists them, and
 * its bytes as they are (no encoding anew). Throws when it does not decode.
 */
export const deleteSetOf = (scan: ScannedUpdate): DeleteSet => {
  const decoder = decoding.createDecoder(scan.bytes)
  decoder.pos = scan.deleteSetAt
  const ranges = readDeleteSet(decoder)
  return { ranges, bytes: scan.bytes.subarray(scan.deleteSetAt, decoder.pos) }
}

const readByte = (decoder: decoding.Decoder): number => {
  if (decoder.pos >= decoder.arr.length) throw new RangeError('update ends inside a struct')
  return decoding.readUint8(decoder)
}

/** Skips a varString; returns its length in UTF-16 code units, as lib0 decodes it. */
const skipString = (decoder: decoding.Decoder): number => {
  const at = decoder.pos
  const n = decoding.readVarUint(decoder)
  const end = decoder.pos + n
  if (end > decoder.arr.length) throw new RangeError('update ends inside a string')
  const arr = decoder.arr
  for (let i = decoder.pos; i < end; i++) {
    if ((arr[i] as number) >= 0x80) {
      // Past ASCII: lib0's own decoding (it refuses malformed UTF-8), for the exact length.
      decoder.pos = at
      return decoding.readVarString(decoder).length
    }
  }
  decoder.pos = end
  return n
}

/** Skips an Item's content of content ref `ref` (1–9); returns the item's length. */
const skipContent = (decoder: decoding.Decoder, ref: number): number => {
  switch (ref) {
    case 1: // ContentDeleted
      return decoding.readVarUint(decoder)
    case 2: {
      // ContentJSON: one JSON string per element
      const len = decoding.readVarUint(decoder)
      for (let i = 0; i < len; i++) skipString(decoder)
      return len
    }
    case 3: // ContentBinary
      skipBytes(decoder)
      return 1
    case 4: // ContentString
      return skipString(decoder)
    case 5: // ContentEmbed (JSON)
      skipString(decoder)
      return 1
    case 6: // ContentFormat: key, JSON value
      skipString(decoder)
      skipString(decoder)
      return 1
    case 7: {
      // ContentType: a type ref; an XML element or hook also has its name
      const typeRef = decoding.readVarUint(decoder)
      if (typeRef > 6) throw new RangeError(`unknown type ref ${typeRef}`)
      if (typeRef === 3 || typeRef === 5) skipString(decoder)
      return 1
    }
    case 8: {
      // ContentAny
      const len = decoding.readVarUint(decoder)
      for (let i = 0; i < len; i++) decoding.readAny(decoder)
      return len
    }
    case 9: // ContentDoc: guid, options
      skipString(decoder)
      decoding.readAny(decoder)
      return 1
    default:
      throw new RangeError(`unknown content ref ${ref}`)
  }
}

const skipBytes = (decoder: decoding.Decoder): void => {
  const n = decoding.readVarUint(decoder)
  if (decoder.pos + n > decoder.arr.length) throw new RangeError('update ends inside a binary')
  decoder.pos += n
}
