/**
 * One gate for every update a replica stores: it decodes, Yjs can integrate it
 * (update-dependencies.ts), its types nest no deeper than the limit (nesting-depth.ts),
 * and it does not pile up too many bytes waiting for missing dependencies. A relay stores
 * an update before it applies it, so what passes here is what every later load applies.
 */
import * as Y from 'yjs'
import { clientSections, lastSectionsOnly, repeatsAClient } from './client-sections.js'
import { ConvergeError } from './errors.js'
import { checkNestingDepth } from './nesting-depth.js'
import { hasMissingDependencies } from './update-dependencies.js'

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

export interface UpdateLimits {
  /** Deepest nesting of shared types. */
  maxNestingDepth: number
  /** Most bytes of updates with missing dependencies a document may hold; undefined: no limit (mesh links). */
  maxPendingBytes: number | undefined
}

export const decodeOrRefuse = (update: Uint8Array): DecodedUpdate => {
  let decoded: DecodedUpdate
  try {
    decoded = Y.decodeUpdate(update)
  } catch (err) {
    throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `update does not decode: ${(err as Error)?.message}`, {
      cause: err,
    })
  }
  // Yjs never writes an empty struct; one integrates as an empty deleted range, and every
  // later encoding of the document then throws when read back.
  for (const struct of decoded.structs) {
    if (struct.length === 0) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'update holds an empty struct')
  }
  return decoded
}

/**
 * `update` as a Y.Doc applies it, and its structs: of a client it lists in several
 * sections, the last alone (client-sections.ts), so that what is stored merges, after a
 * restart, into the document the Y.Doc holds. The same bytes in every update Yjs writes.
 */
export const decodeAsApplied = (update: Uint8Array): { update: Uint8Array; decoded: DecodedUpdate } => {
  const decoded = decodeOrRefuse(update)
  if (!repeatsAClient(decoded, clientSections(update))) return { update, decoded }
  const applied = lastSectionsOnly(update)
  return { update: applied, decoded: decodeOrRefuse(applied) }
}

/**
 * Validates `received` against `doc` (not applied yet); returns it decoded, with `update`
 * the bytes to store and apply: it as a Y.Doc applies it (decodeAsApplied). Throws a coded
 * error otherwise.
 */
export const validateUpdate = (
  doc: Y.Doc,
  received: Uint8Array,
  name: string,
  limits: UpdateLimits,
): DecodedUpdate & { update: Uint8Array } => {
  const { update, decoded } = decodeAsApplied(received)
  const gap = hasMissingDependencies(doc, decoded, name)
  const pendingUpdate = doc.store.pendingStructs?.update
  // Types waiting in the pending structs may hang below this update's: count them too.
  // Yjs keeps pending structs in its V2 encoding: read as V1 they decode as nothing, or as
  // a delete set that runs past its end ("Unexpected end of array").
  const withPending =
    pendingUpdate === undefined
      ? decoded
      : Y.decodeUpdateV2(Y.mergeUpdatesV2([pendingUpdate, Y.convertUpdateFormatV1ToV2(update)]))
  checkNestingDepth(doc, withPending, limits.maxNestingDepth, name)
  if (gap && limits.maxPendingBytes !== undefined) {
    const pending = (pendingUpdate?.length ?? 0) + (doc.store.pendingDs?.length ?? 0)
    if (pending + update.length > limits.maxPendingBytes) {
      throw new ConvergeError(
        'CONVERGE_LIMIT_EXCEEDED',
        `${name}: more than ${limits.maxPendingBytes} bytes of updates with missing dependencies`,
      )
    }
  }
  return Object.assign(decoded, { update })
}

/** Validates a stored part while a store rebuilds a document from its parts (no pending limit). */
export const storedPartCheck =
  (name: string, maxNestingDepth: number) =>
  (doc: Y.Doc, part: Uint8Array): void => {
    validateUpdate(doc, part, name, { maxNestingDepth, maxPendingBytes: undefined })
  }
