/**
 * How deep shared types nest. Yjs deletes, collects and serializes (toJSON) nested types
 * recursively: a map nested 30,000 deep integrates fine, and then the next deletion of
 * its root, or any toJSON of it, overflows the stack, on every peer that holds it.
 */
import * as Y from 'yjs'
import { ConvergeError } from './errors.js'
import { itemPlaces } from './update-dependencies.js'

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/** Depth of an integrated type: 0 for a root type (`doc.getMap('x')`), its parent's + 1 below. Stops counting past `cap`. */
export const depthOfType = (type: Y.AbstractType<unknown>, cap: number): number => {
  let depth = 0
  for (let t = type; t._item !== null && depth <= cap; t = t._item.parent as Y.AbstractType<unknown>) depth++
  return depth
}

/** The deepest type of a loaded document (0 when it has none below its roots); stops past `cap`. */
export const deepestType = (doc: Y.Doc, cap: number): number => {
  const depths = new Map<Y.AbstractType<unknown>, number>()
  let deepest = 0
  for (const structs of doc.store.clients.values()) {
    for (const s of structs) {
      if (!(s instanceof Y.Item) || !(s.content instanceof Y.ContentType)) continue
      const type = s.content.type as Y.AbstractType<unknown>
      // Iteratively, with the depths of parents found before: a long chain costs its length once.
      const chain: Array<Y.AbstractType<unknown>> = []
      let t: Y.AbstractType<unknown> = type
      let base = 0
      for (;;) {
        const known = depths.get(t)
        if (known !== undefined) {
          base = known
          break
        }
        if (t._item === null || chain.length > cap) break
        chain.push(t)
        t = t._item.parent as Y.AbstractType<unknown>
      }
      for (let i = chain.length - 1; i >= 0; i--) depths.set(chain[i] as Y.AbstractType<unknown>, ++base)
      deepest = Math.max(deepest, base)
      if (deepest > cap) return deepest
    }
  }
  return deepest
}

/**
 * Throws CONVERGE_LIMIT_EXCEEDED when a type the update creates would sit deeper than
 * `maxDepth`, counting the document's types and the update's own (in any order).
 */
export const checkNestingDepth = (doc: Y.Doc, decoded: DecodedUpdate, maxDepth: number, name: string): void => {
  let places: ReturnType<typeof itemPlaces> | undefined
  const memo = new Map<Y.Item, number>()
  /** Depth of a type item of the update: its parent type's depth + 1 (0 for an unknown parent). */
  const depthOf = (start: Y.Item): number => {
    places ??= itemPlaces(doc, decoded, name)
    const chain: Y.Item[] = []
    let item = start
    let base = 0
    for (;;) {
      const known = memo.get(item)
      if (known !== undefined) {
        base = known
        break
      }
      chain.push(item)
      if (chain.length > maxDepth) break
      const at = places.placeOf(item)
      if (at === undefined || at === 'gc') break
      const parent = (JSON.parse(at) as [string, string | null])[0]
      if (!parent.startsWith('type ')) break
      const [client, clock] = parent.slice(5).split(':').map(Number) as [number, number]
      const id = Y.createID(client, clock)
      const local = places.local(id)
      if (local instanceof Y.Item && local.content instanceof Y.ContentType) {
        base = depthOfType(local.content.type as Y.AbstractType<unknown>, maxDepth)
        break
      }
      const next = places.inUpdate(id)
      if (!(next instanceof Y.Item)) break
      item = next
    }
    for (let i = chain.length - 1; i >= 0; i--) memo.set(chain[i] as Y.Item, ++base)
    return base
  }
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item) || !(s.content instanceof Y.ContentType)) continue
    const depth = depthOf(s)
    if (depth > maxDepth) {
      throw new ConvergeError(
        'CONVERGE_LIMIT_EXCEEDED',
        `${name}: shared types nested deeper than ${maxDepth} (maxNestingDepth)`.slice(0, 200),
      )
    }
  }
}
