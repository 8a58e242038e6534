/**
 * Shared sync answers: many peers asking a loaded document for what they lack at one state
 * vector (a join storm: every new client sends the empty one) get one computed answer
 * (sync-answer.ts), whose parts and step 2 are the same bytes for all of them, so their
 * frames are encoded once per framing (broadcast.ts). An answer is kept only while the
 * document is unchanged: every change of the Y.Doc clears the cache, and an entry is also
 * dropped when the document's pending structs or deletions moved (an update that only adds
 * pending content changes what is sent, with no 'update' event). The cache also tells
 * whether a document is unchanged since a moment (`stamp`, `current`): an answer streamed
 * over many turns sends its stored step 2 only when it is.
 */
import type * as Y from 'yjs'
import type { EncodedDoc } from './encoded-doc.js'

/** Answers in one message smaller than this are cheap to recompute and not worth keeping per document. */
export const MIN_SHARED_ANSWER_BYTES = 16 * 1024
/** Most state vectors whose answers one document keeps at once. */
export const MAX_SHARED_ANSWERS = 4
/** State vectors longer than this are answered alone (long keys; rarely shared). */
const MAX_KEY_BYTES = 1024

/** A document's version at one moment: equal stamps, unchanged document. */
export interface DocStamp {
  readonly generation: number
  readonly pendingStructs: unknown
  readonly pendingDs: unknown
}

/** What the cache keeps: an answer, its size, and the version it was computed at. */
export interface KeptAnswer {
  /** Worth keeping: not one small message, cheap to make again (see MIN_SHARED_ANSWER_BYTES). */
  readonly keep: boolean
  readonly computedAt: DocStamp
}

/** What answers are made from: a loaded Y.Doc, or a cold document's encoded state (encoded-doc.ts). */
export type AnswerSubject = Y.Doc | EncodedDoc

/** Pending structs and deletions: a Y.Doc's; an encoded state commits only what applies whole (none). */
const pendingOf = (doc: AnswerSubject) => ('store' in doc ? doc.store : NONE_PENDING)
const NONE_PENDING = { pendingStructs: null, pendingDs: null }

/** The answers of one document (loaded, or served cold), by state vector and chunk size. */
export class SyncAnswerCache {
  private doc: AnswerSubject | undefined
  /** Counts the changes of the document (clear): the version in a stamp. */
  private generation = 0
  /** Made on the first answer kept: most documents never keep one. */
  private entries: Map<string, KeptAnswer> | undefined

  /**
   * The answer to a sync step 1 with state vector `sv`, cut in parts of `maxChunkBytes`:
   * a kept one made at the document's current version, else `compute()`'s (kept when it
   * says it is worth it).
   */
  answer<A extends KeptAnswer>(doc: AnswerSubject, sv: Uint8Array, maxChunkBytes: number, compute: () => A): A {
    if (sv.length > MAX_KEY_BYTES) return compute()
    this.own(doc)
    // Links may split answers at different sizes: the chunk size is part of the key.
    const key = `${maxChunkBytes}:${keyOf(sv)}`
    const kept = this.entries?.get(key)
    if (kept !== undefined && this.current(doc, kept.computedAt)) return kept as A
    const answer = compute()
    if (answer.keep) {
      this.entries ??= new Map()
      this.entries.delete(key)
      if (this.entries.size >= MAX_SHARED_ANSWERS) this.entries.delete(this.entries.keys().next().value as string)
      this.entries.set(key, answer)
    }
    return answer
  }

  /** The document's version now. */
  stamp(doc: AnswerSubject): DocStamp {
    this.own(doc)
    const { pendingStructs, pendingDs } = pendingOf(doc)
    return { generation: this.generation, pendingStructs, pendingDs }
  }

  /** Whether `doc` is unchanged since `stamp` was taken. */
  current(doc: AnswerSubject, stamp: DocStamp): boolean {
    const pending = pendingOf(doc)
    return (
      stamp.generation === this.generation &&
      this.doc === doc &&
      stamp.pendingStructs === pending.pendingStructs &&
      stamp.pendingDs === pending.pendingDs
    )
  }

  /** State vectors with a kept answer. */
  get size(): number {
    return this.entries?.size ?? 0
  }

  /** The cache serves `doc` from now on (a new Y.Doc of the document: nothing kept is its). */
  private own(doc: AnswerSubject): void {
    if (this.doc === doc) return
    if (this.doc !== undefined) this.clear()
    this.doc = doc
  }

  /** The document changed: no kept answer is current any more. */
  clear(): void {
    this.generation++
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
