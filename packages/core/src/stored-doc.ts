/**
 * Building a document from its store, so that what a store holds never takes a document
 * down: bytes that do not apply, or types nested deeper than the limit, are set aside by
 * the store (Store.repair, a quarantine) and the document serves everything else.
 */
import * as Y from 'yjs'
import { deepestType } from './nesting-depth.js'
import type { Store } from './store.js'
import { storedPartCheck } from './update-validation.js'

export interface StoredDocOptions {
  gc: boolean
  maxNestingDepth: number
  /** Transaction origin of the load. */
  origin: unknown
  reportError(err: unknown, context: string): void
}

/** A Y.Doc of `stored`, and the reason it is unsound (undefined when sound). */
const build = (stored: Uint8Array | undefined, options: StoredDocOptions): { doc: Y.Doc; unsound?: unknown } => {
  const doc = new Y.Doc({ gc: options.gc })
  if (stored === undefined) return { doc }
  try {
    Y.applyUpdate(doc, stored, options.origin)
  } catch (err) {
    return { doc, unsound: err }
  }
  const depth = deepestType(doc, options.maxNestingDepth)
  if (depth > options.maxNestingDepth) {
    return { doc, unsound: new Error(`shared types nested ${depth} deep (maxNestingDepth ${options.maxNestingDepth})`) }
  }
  return { doc }
}

/**
 * Loads `name` from `store` into a new Y.Doc. When the stored state does not apply or is
 * nested too deep, reports it and lets the store move the parts that fail aside (if it
 * can repair), then loads again; without repair it serves what applied.
 */
export const loadStoredDoc = async (
  store: Store,
  name: string,
  options: StoredDocOptions,
): Promise<{ doc: Y.Doc; stored: boolean; bytes: number }> => {
  const stored = await store.load(name)
  const first = build(stored, options)
  if (first.unsound === undefined || store.repair === undefined) {
    if (first.unsound !== undefined) options.reportError(first.unsound, `loading ${name}`)
    return { doc: first.doc, stored: stored !== undefined, bytes: stored?.length ?? 0 }
  }
  options.reportError(first.unsound, `loading ${name}: setting aside the stored parts that fail`)
  first.doc.destroy()
  await store.repair(name, storedPartCheck(name, options.maxNestingDepth))
  const again = await store.load(name)
  const second = build(again, options)
  if (second.unsound !== undefined) options.reportError(second.unsound, `loading ${name} after repair`)
  return { doc: second.doc, stored: again !== undefined, bytes: again?.length ?? 0 }
}

/** Whether `stored` applies to an empty document and nests no deeper than `maxNestingDepth`. */
export const loadsCleanly = (stored: Uint8Array, maxNestingDepth: number): boolean => {
  const { doc, unsound } = build(stored, { gc: false, maxNestingDepth, origin: null, reportError: () => undefined })
  doc.destroy()
  return unsound === undefined
}

/**
 * The state of `parts` applied in order, leaving out each part that `check` rejects or Yjs
 * fails to apply (returned as `bad`). Nothing is garbage-collected. For Store.repair.
 */
export const rebuildFromParts = (
  parts: Uint8Array[],
  check: (ydoc: Y.Doc, part: Uint8Array) => void,
): { update: Uint8Array; stateVector: Uint8Array; bad: Uint8Array[] } => {
  const good: Uint8Array[] = []
  const bad: Uint8Array[] = []
  let ydoc = new Y.Doc({ gc: false })
  for (const part of parts) {
    try {
      check(ydoc, part)
    } catch {
      bad.push(part)
      continue
    }
    try {
      Y.applyUpdate(ydoc, part)
      good.push(part)
    } catch {
      // A failed apply leaves the document half-changed: start again from the good parts.
      bad.push(part)
      ydoc.destroy()
      ydoc = new Y.Doc({ gc: false })
      for (const g of good) Y.applyUpdate(ydoc, g)
    }
  }
  const update = Y.encodeStateAsUpdate(ydoc)
  const stateVector = Y.encodeStateVector(ydoc)
  ydoc.destroy()
  return { update, stateVector, bad }
}
