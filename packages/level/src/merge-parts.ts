import * as Y from 'yjs'

/**
 * Y.mergeUpdates re-sorts all its inputs for every run of structs it copies: quadratic
 * in the number of parts. Up to this many parts it is still the cheapest merge.
 */
const MERGE_UPDATES_MAX_PARTS = 32

/**
 * Snapshots and log updates merged into one update, in time linear in the number of
 * parts (a long uncompacted log goes through one Y.Doc transaction, not Y.mergeUpdates).
 * Nothing is garbage-collected: the result holds everything the parts hold. A part that
 * Yjs cannot apply is passed to `onBadPart` and left out.
 */
export const mergeParts = (parts: Uint8Array[], onBadPart: (err: unknown, part: Uint8Array) => void): Uint8Array => {
  if (parts.length === 1) return parts[0] as Uint8Array
  if (parts.length <= MERGE_UPDATES_MAX_PARTS) {
    try {
      return Y.mergeUpdates(parts)
    } catch {
      // A part does not decode: the Y.Doc path below finds which one and skips it.
    }
  }
  const doc = new Y.Doc({ gc: false })
  try {
    applyParts(doc, parts, onBadPart)
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

/** Applies parts to `doc` in one transaction; a part Yjs rejects goes to `onBadPart`. */
export const applyParts = (
  doc: Y.Doc,
  parts: Uint8Array[],
  onBadPart: (err: unknown, part: Uint8Array) => void,
): void => {
  doc.transact(() => {
    for (const part of parts) {
      try {
        Y.applyUpdate(doc, part)
      } catch (err) {
        onBadPart(err, part)
      }
    }
  })
}
