/**
 * Whether a relay may take an update for a document it serves from the encoded state
 * (encoded-doc.ts), without a Y.Doc, and be sure a Y.Doc would have taken it the same way:
 * the checks of update-validation.ts pass, Yjs integrates every struct at once (nothing
 * waits as pending structs or deletions), and what the document holds stays one plain
 * list. Anything this cannot decide without a Y.Doc says 'hydrate': the document is
 * loaded and the update takes the Y.Doc's path, whose checks decide.
 *
 * The shape that makes placement provable: every item of the state and of the update sits
 * in one list, the root type `root` with no map keys, and no item holds a nested type
 * (ContentType) or a subdocument (ContentDoc). Then every origin and right origin an
 * update names is in that list, so no item sits between two lists and no map entry is
 * longer than one struct (update-dependencies.ts, checkPlacement), and no type can nest
 * deeper than before (nesting-depth.ts).
 */
import * as Y from 'yjs'
import { clientSections, repeatsAClient } from './client-sections.js'
import type { DeleteRanges } from './delete-set-chunks.js'
import type { DocShape } from './encoded-doc.js'

export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>
type Struct = DecodedUpdate['structs'][number]

export type ColdVerdict =
  /** Every struct is already there and the update deletes nothing: durable as it is. */
  | { kind: 'redundant' }
  /** A Y.Doc must decide (see the module comment). */
  | { kind: 'hydrate'; reason: string }
  /** Integrates whole: `reach` is the state vector with it, `root` the one list's root name. */
  | { kind: 'accept'; reach: Map<number, number>; root: string | undefined }

const hydrate = (reason: string): ColdVerdict => ({ kind: 'hydrate', reason })

/** The items' one list: the root name items without origins give (undefined when the state has none yet). */
const rootOf = (decoded: DecodedUpdate, root: string | undefined): string | undefined | false => {
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue
    if (s.content instanceof Y.ContentType || s.content instanceof Y.ContentDoc) return false
    if (s.origin !== null || s.rightOrigin !== null) continue
    const parent = s.parent as unknown
    if (typeof parent !== 'string' || s.parentSub !== null) return false
    if (root === undefined) root = parent
    else if (root !== parent) return false
  }
  return root
}

/** Whether `ranges` (sorted by clock, merged) delete all of clock..clock+len: found by bisection. */
const covers = (ranges: ReadonlyArray<readonly [number, number]> | undefined, clock: number, len: number): boolean => {
  if (ranges === undefined) return false
  // The last range starting at or before `clock` (a scan from the start made a sync step 2
  // repeating 40,000 deletions cost 2 s: each joining client sends its whole delete set).
  let lo = 0
  let hi = ranges.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((ranges[mid] as readonly [number, number])[0] <= clock) lo = mid
    else hi = mid - 1
  }
  let at = clock
  const end = clock + len
  for (let i = lo; i < ranges.length; i++) {
    const [from, n] = ranges[i] as readonly [number, number]
    if (from > at) return false
    if (from + n > at) at = from + n
    if (at >= end) return true
  }
  return false
}

/**
 * True when every struct is at or below `sv` and every deletion is done already (as
 * isRedundantUpdate, redundant-update.ts): relays of a mesh pass the same update along
 * several paths, and each must stop it, or it circles for ever.
 */
const isRedundant = (decoded: DecodedUpdate, sv: ReadonlyMap<number, number>, deleted: () => DeleteRanges): boolean => {
  for (const s of decoded.structs) {
    if (s instanceof Y.Skip) continue
    if (s.id.clock + s.length > (sv.get(s.id.client) ?? 0)) return false
  }
  if (decoded.ds.clients.size === 0) return true
  const done = deleted()
  for (const [client, ranges] of decoded.ds.clients) {
    // Only deletions of structs there (a state's deletions may wait for their structs).
    const state = sv.get(client) ?? 0
    for (const { clock, len } of ranges) {
      if (len > 0 && (clock + len > state || !covers(done.get(client), clock, len))) return false
    }
  }
  return true
}

/**
 * Integrates the update's structs into state vector `sv` as Yjs would, in any order that
 * works (an update groups structs by client, not by dependency): a struct integrates once
 * its client's state reaches its clock and every id it names (origin, right origin, parent
 * item) is known. Returns the state vector after, or a reason some struct would wait.
 *
 * In time linear in the structs: a client whose next struct waits for another client is
 * looked at again only once that client moved on (a pass over every client for each
 * struct would be quadratic: 20,000 clients whose items each sit next to the following
 * client's took seconds).
 */
const integrate = (structs: readonly Struct[], sv: ReadonlyMap<number, number>): Map<number, number> | string => {
  const state = new Map(sv)
  const lists = new Map<number, Struct[]>()
  let last: Struct | undefined
  for (const s of structs) {
    if (s instanceof Y.Skip) return 'a gap in the update'
    let list = lists.get(s.id.client)
    if (list === undefined) {
      list = []
      lists.set(s.id.client, list)
    } else if (last?.id.client !== s.id.client || last.id.clock + last.length !== s.id.clock) {
      // Yjs applies only the last block of a client that an update holds twice: the Y.Doc decides.
      return 'a client in two blocks'
    }
    list.push(s)
    last = s
  }
  const next = new Map<number, number>()
  /** Clients whose next struct waits for the client of the key. */
  const waiting = new Map<number, number[]>()
  const known = (id: Y.ID) => id.clock < (state.get(id.client) ?? 0)
  const todo = [...lists.keys()]
  for (let client = todo.pop(); client !== undefined; client = todo.pop()) {
    const list = lists.get(client) as Struct[]
    const from = next.get(client) ?? 0
    let i = from
    for (; i < list.length; i++) {
      const s = list[i] as Struct
      if (s.id.clock > (state.get(client) ?? 0)) break
      if (s instanceof Y.Item) {
        const parent = s.parent as unknown
        const refs = [s.origin, s.rightOrigin, parent instanceof Y.ID ? parent : null]
        // A reference to a later struct of its own client is malformed: the Y.Doc's checks refuse it.
        if (refs.some((r) => r !== null && r.client === client && r.clock >= s.id.clock)) return 'a malformed reference'
        const missing = refs.find((r) => r !== null && r.client !== client && !known(r))
        if (missing != null) {
          const list = waiting.get(missing.client)
          if (list === undefined) waiting.set(missing.client, [client])
          else list.push(client)
          break
        }
      }
      state.set(client, Math.max(state.get(client) ?? 0, s.id.clock + s.length))
    }
    next.set(client, i)
    if (i === from) continue
    const woken = waiting.get(client)
    if (woken === undefined) continue
    waiting.delete(client)
    todo.push(...woken)
  }
  for (const [client, list] of lists) if ((next.get(client) ?? 0) < list.length) return 'missing dependencies'
  return state
}

/** What the checks know of the document: asked lazily, so a redundant update costs no pass over the state. */
export interface ColdState {
  /** The state vector, with every update accepted and still being written. */
  readonly sv: ReadonlyMap<number, number>
  /** Where its items sit (null: not one plain list). */
  shape(): DocShape | null
  /** Its committed deletions, by client, sorted and merged. */
  deleted(): DeleteRanges
}

/**
 * The verdict on `decoded` for a document as `state` knows it. For a state itself as an
 * update, pass an empty one: 'accept' says it has that shape and holds nothing pending
 * (see shapeOf).
 */
export const checkColdUpdate = (decoded: DecodedUpdate, state: ColdState, sections: number): ColdVerdict => {
  const { sv } = state
  // Yjs applies only the last section of a client an update lists twice (or an empty one):
  // with their clocks contiguous, the decoded structs cannot tell. The Y.Doc decides (client-sections.ts).
  if (repeatsAClient(decoded, sections)) return hydrate('a client in two blocks')
  for (const s of decoded.structs) if (s.length === 0) return hydrate('an empty struct')
  // The Y.Doc's checks refuse an empty deletion even when everything else is there already.
  for (const ranges of decoded.ds.clients.values())
    for (const { len } of ranges) if (len === 0) return hydrate('an empty deletion')
  const redundant = isRedundant(decoded, sv, () => state.deleted())
  // Items and gaps that are there already pass the Y.Doc's checks only if they fit where
  // they claim to sit (a malformed copy is refused, not dropped): the checks below decide.
  if (redundant && decoded.structs.every((s) => s instanceof Y.GC)) return { kind: 'redundant' }
  const known = state.shape()
  if (known === null) return hydrate('the state is not one plain list')
  const newRoot = rootOf(decoded, known.root)
  if (newRoot === false) return hydrate('nested types, map entries or a second root')
  const reach = integrate(decoded.structs, sv)
  if (typeof reach === 'string') return hydrate(reach)
  if (redundant) return { kind: 'redundant' }
  for (const [client, ranges] of decoded.ds.clients) {
    for (const { clock, len } of ranges) {
      // Deletions of structs not there yet wait as pending deletions.
      if (clock + len > (reach.get(client) ?? 0)) return hydrate('deletions of unknown structs')
    }
  }
  return { kind: 'accept', reach, root: newRoot }
}

/** The shape of a whole state (decoded once per document, on its first update taken cold). */
export const shapeOf = (state: Uint8Array): DocShape | null => {
  let decoded: DecodedUpdate
  try {
    decoded = Y.decodeUpdate(state)
  } catch {
    return null
  }
  const verdict = checkColdUpdate(
    decoded,
    {
      sv: new Map(),
      shape: () => ({ root: undefined }),
      deleted: () => new Map(),
    },
    clientSections(state),
  )
  if (verdict.kind === 'redundant') return { root: undefined }
  return verdict.kind === 'accept' ? { root: verdict.root } : null
}
