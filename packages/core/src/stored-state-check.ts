/**
 * Whether a stored state may be served as it is, with no Y.Doc built (cold-doc.ts): it
 * decodes, and holds nothing that makes Yjs throw while applying it (an empty struct or
 * deletion, a struct that refers to a later one of its own client) and no type nested
 * deeper than `maxNestingDepth`. Otherwise the Y.Doc's load decides (stored-doc.ts: it
 * reports the damage and lets the store set the parts that fail aside), as with coldDocs
 * off: a damaged state is never passed on to peers.
 *
 * The check reads the state with update-scan.ts (no struct built), and returns that scan
 * so that cutting the first answer (encoded-doc.ts, splitter) needs no second pass: a join
 * storm on a large document pays one scan. Only a state holding content Yjs parses as JSON,
 * or nested types (whose depth needs the structs), is also decoded by Yjs.
 */
import * as Y from 'yjs'
import { checkNestingDepth } from './nesting-depth.js'
import {
  CLOCK,
  deleteSetOf,
  GC_REF,
  LENGTH,
  NEED_CLIENT,
  NEED_CLOCK,
  NONE,
  ORIGIN_CLIENT,
  ORIGIN_CLOCK,
  REF,
  type ScannedUpdate,
  SKIP_REF,
  STRIDE,
  scanUpdate,
} from './update-scan.js'

/** Content refs Yjs decodes further than the scan does: JSON (2), Embed (5), Format (6) and Type (7). */
const DECODED_REFS = new Set([2, 5, 6, 7])

/** The state scanned when it may be served cold; undefined when the Y.Doc's load must decide. */
export const servesCold = (stored: Uint8Array, maxNestingDepth: number): ScannedUpdate | undefined => {
  let scan: ScannedUpdate
  try {
    scan = scanUpdate(stored)
    for (const ranges of deleteSetOf(scan).ranges.values())
      for (const [, len] of ranges) if (len === 0) return undefined
  } catch {
    return undefined
  }
  const table = scan.table
  // Ids past 32 bits have no table: Yjs decodes the structs for the check.
  if (table === undefined) return decodedCheck(stored, maxNestingDepth) ? scan : undefined
  let decode = false
  for (const { client, first, count } of scan.runs) {
    for (let row = first * STRIDE; row < (first + count) * STRIDE; row += STRIDE) {
      if (table[LENGTH + row] === 0) return undefined
      const ref = table[REF + row] as number
      if (ref === GC_REF || ref === SKIP_REF) continue
      const clock = table[CLOCK + row] as number
      if (refersForward(client, clock, table[ORIGIN_CLIENT + row], table[ORIGIN_CLOCK + row])) return undefined
      if (refersForward(client, clock, table[NEED_CLIENT + row], table[NEED_CLOCK + row])) return undefined
      if (DECODED_REFS.has(ref)) decode = true
    }
  }
  if (decode && !decodedCheck(stored, maxNestingDepth)) return undefined
  return scan
}

/** Whether an item of `client` at `clock` names an id of its own client at or past itself. */
const refersForward = (client: number, clock: number, refClient: number | undefined, refClock: number | undefined) =>
  refClient !== NONE && refClient === client && (refClock as number) >= clock

/** The same checks on the structs Yjs decodes (content parsed as JSON, nesting depth). */
const decodedCheck = (stored: Uint8Array, maxNestingDepth: number): boolean => {
  let decoded: ReturnType<typeof Y.decodeUpdate>
  try {
    decoded = Y.decodeUpdate(stored)
  } catch {
    return false
  }
  let types = false
  for (const s of decoded.structs) {
    if (s.length === 0) return false
    if (!(s instanceof Y.Item)) continue
    const parent = s.parent as unknown
    for (const ref of [s.origin, s.rightOrigin, parent instanceof Y.ID ? parent : null])
      if (ref !== null && ref.client === s.id.client && ref.clock >= s.id.clock) return false
    if (s.content instanceof Y.ContentType) types = true
  }
  for (const ranges of decoded.ds.clients.values()) for (const { len } of ranges) if (len === 0) return false
  if (!types) return true
  const empty = new Y.Doc()
  try {
    checkNestingDepth(empty, decoded, maxNestingDepth, 'stored state')
    return true
  } catch {
    return false
  } finally {
    empty.destroy()
  }
}
