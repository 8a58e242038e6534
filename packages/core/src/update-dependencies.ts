import * as Y from 'yjs'
import { ConvergeError } from './errors.js'

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>
type Struct = DecodedUpdate['structs'][number]

const malformed = (doc: string, what: string) =>
  new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `${doc}: ${what}`.slice(0, 200))

/**
 * Whether an update needs structs that neither `doc` nor the update holds, so Yjs would
 * keep (part of) it pending: a clock gap, or an origin, parent or deletion pointing at a
 * struct not seen yet.
 *
 * Throws a CONVERGE_MALFORMED_MESSAGE error for structures no Yjs encoder writes and that
 * Yjs trusts when it integrates (see `checkPlacement`): a relay persists an update before
 * it applies it, so such bytes would be stored and then throw in `Y.applyUpdate`, on this
 * update or on a later, innocent one, and on every load after.
 */
export const hasMissingDependencies = (doc: Y.Doc, decoded: DecodedUpdate, name: string): boolean => {
  let gap = false
  let client = -1
  /** Per client, the clock up to which the update's structs reach. */
  const reach = new Map<number, number>()
  // Structs come grouped by client, ascending clock: the first of each group is where
  // the update starts for that client. A start beyond the local state is a gap.
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) gap = true
    if (struct.id.client !== client) {
      client = struct.id.client
      if (struct.id.clock > Y.getState(doc.store, client)) gap = true
    }
    reach.set(client, Math.max(reach.get(client) ?? 0, struct.id.clock + struct.length))
  }
  const known = (id: Y.ID) => id.clock < Math.max(Y.getState(doc.store, id.client), reach.get(id.client) ?? 0)
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue
    const parent = struct.parent as unknown
    for (const ref of [struct.origin, struct.rightOrigin, parent instanceof Y.ID ? parent : null]) {
      if (ref === null) continue
      // A struct can only point at structs that existed when it was made: of its own
      // client, those have lower clocks. Yjs looks such a reference up without a check.
      if (ref.client === struct.id.client && ref.clock >= struct.id.clock) {
        throw malformed(name, `struct ${struct.id.client}:${struct.id.clock} refers to a later struct of its client`)
      }
      if (!known(ref)) gap = true
    }
  }
  for (const [c, ranges] of decoded.ds.clients) {
    for (const { clock, len } of ranges) {
      // Yjs never writes an empty deletion, and applying one past the local state throws.
      if (len === 0) throw malformed(name, 'empty deletion range')
      if (!known(Y.createID(c, clock + len - 1))) gap = true
    }
  }
  // Structs that do not wait are integrated at once, gap or not: check them either way.
  checkPlacement(doc, decoded, name)
  return gap
}

/**
 * Where an item sits: its parent type and map key (JSON of [parent, key or null]), 'gc'
 * (it will be garbage), or undefined (not known yet).
 */
type Place = string | undefined

const place = (parent: string, key: string | null): string => JSON.stringify([parent, key])
const isMapEntry = (p: string) => !p.endsWith(',null]')

/**
 * Yjs places an item by its origin (left neighbour) or right origin, taking the parent
 * and map key from them, and trusts that both neighbours are in one list, and that a map
 * entry is one struct long (only the last entry of a key is alive). An update that breaks
 * either links items across lists or leaves live entries behind the current value; the
 * next deletion of that type throws while Yjs collects its garbage.
 */
const checkPlacement = (doc: Y.Doc, decoded: DecodedUpdate, name: string): void => {
  const { placeOf, placeOfId } = itemPlaces(doc, decoded, name)
  const deletedInUpdate = (client: number, from: number, to: number) =>
    (decoded.ds.clients.get(client) ?? []).some((r) => r.clock <= from && to <= r.clock + r.len)

  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue
    if (s.origin !== null && s.rightOrigin !== null) {
      const left = placeOfId(s.origin)
      const right = placeOfId(s.rightOrigin)
      if (left !== undefined && right !== undefined && left !== 'gc' && right !== 'gc' && left !== right) {
        throw malformed(name, `item ${s.id.client}:${s.id.clock} sits between two lists`)
      }
    }
    const at = placeOf(s)
    if (
      s.length > 1 &&
      at !== undefined &&
      at !== 'gc' &&
      isMapEntry(at) &&
      !(s.content instanceof Y.ContentDeleted) &&
      !deletedInUpdate(s.id.client, s.id.clock, s.id.clock + s.length - 1)
    ) {
      throw malformed(name, `map entry ${s.id.client}:${s.id.clock} is ${s.length} long`)
    }
  }
}

/**
 * Where the items of an update sit (see Place), resolved the way Yjs will place them:
 * by explicit parent, or by following origins through the document and the update.
 * Also finds structs by id in the document (`local`) or the update (`inUpdate`).
 */
export const itemPlaces = (doc: Y.Doc, decoded: DecodedUpdate, name: string) => {
  const byClient = new Map<number, Struct[]>()
  for (const s of decoded.structs) {
    const list = byClient.get(s.id.client) ?? []
    list.push(s)
    byClient.set(s.id.client, list)
  }
  const inUpdate = (id: Y.ID): Struct | undefined => {
    const list = byClient.get(id.client)
    if (list === undefined) return undefined
    let lo = 0
    let hi = list.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const s = list[mid] as Struct
      if (id.clock < s.id.clock) hi = mid - 1
      else if (id.clock >= s.id.clock + s.length) lo = mid + 1
      else return s
    }
    return undefined
  }
  const local = (id: Y.ID): Y.Item | Y.GC | undefined => {
    if (id.clock >= Y.getState(doc.store, id.client)) return undefined
    const structs = doc.store.clients.get(id.client) as Array<Y.Item | Y.GC>
    return structs[Y.findIndexSS(structs, id.clock)]
  }
  let roots: Map<unknown, string> | undefined
  const rootName = (type: unknown) => {
    roots ??= new Map([...doc.share.entries()].map(([k, v]) => [v, k]))
    return roots.get(type) ?? '?'
  }
  const placeOfLocal = (item: Y.Item | Y.GC): Place => {
    if (!(item instanceof Y.Item) || item.parent === null) return 'gc'
    const type = item.parent as Y.AbstractType<unknown>
    const parent =
      type._item === null ? `root ${rootName(type)}` : `type ${type._item.id.client}:${type._item.id.clock}`
    return place(parent, item.parentSub)
  }
  /** The place an explicit parent (a root name or a type item) gives. */
  const explicit = (item: Y.Item): Place => {
    const parent = item.parent as unknown
    if (typeof parent === 'string') return place(`root ${parent}`, item.parentSub)
    if (!(parent instanceof Y.ID)) return 'gc'
    const p = local(parent) ?? inUpdate(parent)
    if (p === undefined) return undefined
    // A parent that is not a type makes the item garbage (Yjs does the same).
    if (!(p instanceof Y.Item) || !(p.content instanceof Y.ContentType)) return 'gc'
    return place(`type ${parent.client}:${parent.clock}`, item.parentSub)
  }
  const memo = new Map<Struct, Place>()
  /** The place of an item of the update, following origins (iteratively: chains can be long). */
  const placeOf = (start: Y.Item): Place => {
    const chain: Y.Item[] = []
    const onChain = new Set<Struct>()
    let found: Place
    let item: Y.Item = start
    for (;;) {
      if (memo.has(item)) {
        found = memo.get(item)
        break
      }
      const ref = item.origin ?? item.rightOrigin
      if (ref === null) {
        found = explicit(item)
        break
      }
      if (onChain.has(item)) throw malformed(name, 'items whose origins form a cycle')
      chain.push(item)
      onChain.add(item)
      const l = local(ref)
      if (l !== undefined) {
        found = placeOfLocal(l)
        break
      }
      const next = inUpdate(ref)
      if (!(next instanceof Y.Item)) {
        found = next === undefined || next instanceof Y.Skip ? undefined : 'gc'
        break
      }
      item = next
    }
    for (const c of chain) memo.set(c, found)
    memo.set(start, found)
    return found
  }
  const placeOfId = (id: Y.ID): Place => {
    const l = local(id)
    if (l !== undefined) return placeOfLocal(l)
    const s = inUpdate(id)
    return s instanceof Y.Item ? placeOf(s) : s === undefined || s instanceof Y.Skip ? undefined : 'gc'
  }
  return { placeOf, placeOfId, local, inUpdate }
}
