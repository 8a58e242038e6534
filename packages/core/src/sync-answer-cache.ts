/**
 * Shared sync answers: many peers asking a loaded document for what they lack at one state
 * vector (a join storm: every new client sends the empty one) get one computed answer,
 * whose frames are then encoded once per framing (broadcast.ts). An answer is kept only
 * while the document is unchanged: every change of the Y.Doc clears the cache, and an
 * entry is also dropped when the document's pending structs or deletions moved (an update
 * that only adds pending content changes what is sent, with no 'update' event).
 */
import type * as Y from 'yjs'
import { syncStep2Parts } from './split-diff.js'

/** Answers smaller than this are cheap to recompute and not worth keeping per document. */
export const MIN_SHARED_ANSWER_BYTES = 16 * 1024
/** Most state vectors whose answers one document keeps at once. */
export const MAX_SHARED_ANSWERS = 4
/** State vectors longer than this are answered alone (long keys; rarely shared). */
const MAX_KEY_BYTES = 1024

interface Entry {
  parts: readonly Uint8Array[]
  pendingStructs: unknown
  pendingDs: unknown
}

/** The answers of one loaded document, by state vector. */
export class SyncAnswerCache {
  private doc: Y.Doc | undefined
  /** Made on the first answer kept: most documents never keep one. */
  private entries: Map<string, Entry> | undefined

  /**
   * The updates that answer a sync step 1 with state vector `sv` (see syncStep2Parts):
   * the last is the step 2, the others go before it as updates. `compute` makes them when
   * no unchanged answer is kept. The array is the caller's to change.
   */
  answer(doc: Y.Doc, sv: Uint8Array, maxChunkBytes: number, compute: () => Uint8Array[]): Uint8Array[] {
    if (sv.length > MAX_KEY_BYTES) return compute()
    if (this.doc !== doc) this.clear()
    // Links may split answers at different sizes: the chunk size is part of the key.
    const key = `${maxChunkBytes}:${keyOf(sv)}`
    const kept = this.entries?.get(key)
    const { pendingStructs, pendingDs } = doc.store
    if (kept !== undefined && kept.pendingStructs === pendingStructs && kept.pendingDs === pendingDs) {
      return [...kept.parts]
    }
    const parts = compute()
    let bytes = 0
    for (const p of parts) bytes += p.length
    if (bytes >= MIN_SHARED_ANSWER_BYTES) {
      this.entries ??= new Map()
      if (this.entries.size >= MAX_SHARED_ANSWERS) this.entries.delete(this.entries.keys().next().value as string)
      this.doc = doc
      this.entries.set(key, { parts: [...parts], pendingStructs, pendingDs })
    }
    return parts
  }

  /** State vectors with a kept answer. */
  get size(): number {
    return this.entries?.size ?? 0
  }

  /** The document changed: no kept answer is current any more. */
  clear(): void {
    this.entries = undefined
    this.doc = undefined
  }
}

/** A map key of a (short) state vector's bytes. */
const keyOf = (sv: Uint8Array): string => {
  let key = ''
  for (let i = 0; i < sv.length; i++) key += String.fromCharCode(sv[i] as number)
  return key
}

/** The answer parts of a loaded document, shared when no delete digests tailor it to one peer. */
export const answerParts = (
  cache: SyncAnswerCache,
  doc: Y.Doc,
  sv: Uint8Array,
  maxChunkBytes: number,
  diff: () => Uint8Array,
  deletions: () => Uint8Array,
  tailored: boolean,
): Uint8Array[] => {
  const compute = () => syncStep2Parts(doc, sv, diff(), maxChunkBytes, deletions)
  return tailored ? compute() : cache.answer(doc, sv, maxChunkBytes, compute)
}
