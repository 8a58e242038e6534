import * as Y from 'yjs'
import {
  type DeleteDigests,
  type DeleteSet,
  deleteSetOfDoc,
  deleteSetOfUpdate,
  digestDeleteSet,
  encodeDeleteDigests,
  withDeletionsNotIn,
} from './delete-set-chunks.js'

// What a peer lacks of a document, loaded or stored, and the delete-set digests a
// replica sends so that peers can leave out the deletions it already has.

/** Delete sets smaller than this travel whole: digests would not save enough to matter. */
const MIN_DELETE_SET_FOR_DIGESTS = 256

/** What a peer with state vector `sv` lacks; with its delete digests, only the deletions it lacks. */
export const diffOfDoc = (
  doc: Y.Doc,
  sv: Uint8Array,
  theirDeletes?: DeleteDigests,
  ds: DeleteSet | undefined = theirDeletes === undefined ? undefined : deleteSetOfDoc(doc),
): Uint8Array => {
  const full = Y.encodeStateAsUpdate(doc, sv)
  if (theirDeletes === undefined || ds === undefined) return full
  return withDeletionsNotIn(full, ds, theirDeletes)
}

/** What a peer with state vector `sv` lacks of a stored state; with its delete digests, only the deletions it lacks. */
export const diffOfStored = (stored: Uint8Array, sv: Uint8Array, theirDeletes?: DeleteDigests): Uint8Array => {
  const full = Y.diffUpdate(stored, sv)
  if (theirDeletes === undefined) return full
  const ds = deleteSetOfUpdate(stored)
  return ds === undefined ? full : withDeletionsNotIn(full, ds, theirDeletes)
}

/** Digests of a delete set, or undefined when they would not be much smaller than the set. */
export const deleteDigestsOf = (ds: DeleteSet | undefined): Uint8Array | undefined => {
  if (ds === undefined || ds.bytes.length < MIN_DELETE_SET_FOR_DIGESTS) return undefined
  const digests = encodeDeleteDigests(digestDeleteSet(ds.ranges))
  return digests.length * 2 < ds.bytes.length ? digests : undefined
}

/** A loaded document's delete set, computed once per change of the document. */
export class DeleteSetCache {
  #cache: { doc: Y.Doc; value: DeleteSet | undefined } | undefined

  of(doc: Y.Doc): DeleteSet | undefined {
    if (this.#cache === undefined || this.#cache.doc !== doc) this.#cache = { doc, value: deleteSetOfDoc(doc) }
    return this.#cache.value
  }

  /** The document changed. */
  clear(): void {
    this.#cache = undefined
  }
}
