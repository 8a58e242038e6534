/**
 * Hostile updates written by hand (V1 layout, see Yjs encoding.js): structs and deletions
 * exactly as given (empty ranges, a client in two blocks, references anywhere), counts
 * that claim more than the bytes hold, and random damage to any bytes.
 */
import * as encoding from 'lib0/encoding'
import { writeDeleteSet } from '../../packages/core/src/delete-set-chunks.js'

// --- hand-made updates (V1 layout, see Yjs encoding.js) ------------------------------------

export interface StructSpec {
  /** Info byte's low bits: 0 GC, 10 skip, 4 string, 1 deleted. */
  ref: 0 | 1 | 4 | 10
  len: number
  origin?: [number, number]
  right?: [number, number]
  parent?: string
  parentSub?: string
}
const writeStructs = (e: encoding.Encoder, blocks: Array<{ client: number; clock: number; structs: StructSpec[] }>) => {
  encoding.writeVarUint(e, blocks.length)
  for (const b of blocks) {
    encoding.writeVarUint(e, b.structs.length)
    encoding.writeVarUint(e, b.client)
    encoding.writeVarUint(e, b.clock)
    for (const s of b.structs) {
      if (s.ref === 0 || s.ref === 10) {
        encoding.writeUint8(e, s.ref)
        encoding.writeVarUint(e, s.len)
        continue
      }
      const sub = s.origin === undefined && s.right === undefined && s.parentSub !== undefined
      encoding.writeUint8(e, s.ref | (s.origin ? 0x80 : 0) | (s.right ? 0x40 : 0) | (sub ? 0x20 : 0))
      if (s.origin) for (const n of s.origin) encoding.writeVarUint(e, n)
      if (s.right) for (const n of s.right) encoding.writeVarUint(e, n)
      if (s.origin === undefined && s.right === undefined) {
        encoding.writeVarUint(e, 1)
        encoding.writeVarString(e, s.parent ?? 't')
        if (sub) encoding.writeVarString(e, s.parentSub as string)
      }
      if (s.ref === 4) encoding.writeVarString(e, 'x'.repeat(s.len))
      else encoding.writeVarUint(e, s.len)
    }
  }
}
export const handMade = (
  blocks: Array<{ client: number; clock: number; structs: StructSpec[] }>,
  ds: Array<[number, Array<[number, number]>]> = [],
): Uint8Array => {
  const e = encoding.createEncoder()
  writeStructs(e, blocks)
  // As they are: empty ranges, unsorted, unknown clients.
  writeDeleteSet(e, new Map(ds))
  return encoding.toUint8Array(e)
}

/** An update whose first count claims `n` (clients, structs or ranges) and holds almost nothing. */
export const hugeCount = (where: 'clients' | 'structs' | 'ranges', n: number, client: number): Uint8Array => {
  const e = encoding.createEncoder()
  if (where === 'clients') encoding.writeVarUint(e, n)
  else if (where === 'structs') {
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, n)
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, 0)
  } else {
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, n)
  }
  encoding.writeVarUint(e, 0)
  return encoding.toUint8Array(e)
}

// --- damage -----------------------------------------------------------------------------------

export const mutate = (random: () => number, bytes: Uint8Array): Uint8Array => {
  const at = (n: number) => Math.floor(random() * n)
  const out = bytes.slice()
  const r = random()
  if (out.length === 0) return new Uint8Array([at(256)])
  if (r < 0.3) {
    // A few bit flips.
    for (let i = 0, n = 1 + at(3); i < n; i++) {
      const p = at(out.length)
      out[p] = (out[p] as number) ^ (1 << at(8))
    }
    return out
  }
  if (r < 0.55) return out.slice(0, at(out.length))
  if (r < 0.7) {
    out[at(out.length)] = at(256)
    return out
  }
  if (r < 0.85) {
    const p = at(out.length + 1)
    const extra = Uint8Array.from({ length: 1 + at(6) }, () => (random() < 0.3 ? 0xff : at(256)))
    return Uint8Array.from([...out.slice(0, p), ...extra, ...out.slice(p)])
  }
  return Uint8Array.from([...out, ...Uint8Array.from({ length: 1 + at(8) }, () => at(256))])
}
