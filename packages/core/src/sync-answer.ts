/**
 * The answer of a loaded document to a sync step 1: the whole diff when it fits in one
 * message, else parts of about `maxBytes` (DiffSplitter, split-diff.ts), cut as the first
 * asker reaches each and kept, then the step 2. An answer without delete digests is shared
 * by every peer asking at its state vector (sync-answer-cache.ts): one computation per
 * document version, and every joiner streams the same bytes, whose frames are encoded
 * once per framing (broadcast.ts). A joiner that reaches the step 2 after the document
 * changed (or, served cold, hydrated) gets the diff since what the parts covered, made then
 * from the document as it is: never a stale answer.
 */
import * as Y from 'yjs'
import type { DeleteDigests } from './delete-set-chunks.js'
import type { EncodedDoc } from './encoded-doc.js'
import { DiffSplitter, type PartCutter, type StructSource, surelyLargerThan } from './split-diff.js'
import { type Step2Sink, type StreamedAnswer, streamAnswer } from './step2-stream.js'
import {
  type AnswerSubject,
  type DocStamp,
  type KeptAnswer,
  MIN_SHARED_ANSWER_BYTES,
  type SyncAnswerCache,
} from './sync-answer-cache.js'

/** The step 2 after the parts: what they covered, and its diff as of `at` (undefined: not made yet). */
interface Final {
  covered: Uint8Array
  bytes: Uint8Array | undefined
  at: DocStamp
}

export class SyncAnswer implements KeptAnswer, StreamedAnswer {
  readonly keep: boolean
  readonly computedAt: DocStamp
  /** The parts cut so far; the same arrays for every peer streaming this answer. */
  private readonly parts: Uint8Array[] = []
  /** Cuts the next part; undefined when the whole diff fits, or every part was cut. */
  private splitter: PartCutter | undefined
  private final: Final | undefined

  /**
   * The parts are cut from `doc` (a Y.Doc, or the encoded state of a document served cold);
   * `now()` is the document as it is at each later moment, which may be another form of it
   * (a document served cold hydrates: it builds its Y.Doc, and its encoded state changes no
   * more). `diff(since)`: what a peer at state vector `since` lacks, made from the document
   * now; `versions` tells whether a form of it changed since a moment (the document's cache).
   */
  constructor(
    doc: AnswerSubject,
    sv: Uint8Array,
    readonly maxBytes: number,
    private readonly diff: (since: Uint8Array) => Uint8Array,
    private readonly versions: Pick<SyncAnswerCache, 'stamp' | 'current'>,
    private readonly now: () => AnswerSubject = () => doc,
  ) {
    this.computedAt = versions.stamp(doc)
    // The whole diff first (it is cheap, and most answers fit in one message), unless it
    // surely does not fit.
    const loaded = doc instanceof Y.Doc
    const whole = loaded && surelyLargerThan(doc, sv, maxBytes) ? undefined : diff(sv)
    if (whole !== undefined && whole.length <= maxBytes) {
      this.final = { covered: sv, bytes: whole, at: this.computedAt }
      this.keep = whole.length >= MIN_SHARED_ANSWER_BYTES
    } else {
      // An encoded state is cut from its bytes (once per answer, shared by its askers).
      this.splitter = loaded ? new DiffSplitter(doc.store as StructSource, sv, maxBytes) : doc.splitter(sv, maxBytes)
      this.keep = true
    }
  }

  part(index: number): Uint8Array | undefined {
    if (index < this.parts.length) return this.parts[index]
    const splitter = this.splitter
    if (splitter === undefined) return undefined
    const part = splitter.next()
    if (part !== undefined) {
      this.parts.push(part)
      return part
    }
    this.splitter = undefined
    const covered = splitter.covered()
    this.final = { covered, bytes: this.diff(covered), at: this.versions.stamp(this.now()) }
    return undefined
  }

  step2(): Uint8Array {
    const final = this.final as Final
    // The one check that the document is as the step 2 was made: unchanged, and in the same
    // form (one that hydrated since is another document to the cache, never current).
    if (final.bytes !== undefined && this.versions.current(this.now(), final.at)) return final.bytes
    // It changed, or hydrated, since the step 2 was made: its diff since the parts, now.
    return this.diff(final.covered)
  }
}

/** What answerLoaded needs of the document (a ReplicaDoc). */
export interface AnswerSource {
  readonly fanOut: { readonly syncAnswers: SyncAnswerCache }
  /** Its Y.Doc once loaded (a document served cold builds it when it hydrates). */
  readonly doc: Y.Doc | undefined
  /** The encoded state of a document served cold (cold-doc.ts), until it hydrates. */
  readonly encoded: EncodedDoc | undefined
  diffLoaded(doc: Y.Doc, sv: Uint8Array, theirDeletes?: DeleteDigests): Uint8Array
}

/**
 * Answers a sync step 1 with state vector `sv` from the loaded `doc`, or the encoded state
 * of a document served cold, into `sink` (see streamAnswer). Delete digests tailor an
 * answer to one peer: it is computed for it alone. Settles once the step 2 was sent, or
 * the session ended; rejects (never throws) when making or sending the answer fails.
 */
export const answerLoaded = (
  source: AnswerSource,
  doc: Y.Doc | EncodedDoc,
  sv: Uint8Array,
  theirDeletes: DeleteDigests | undefined,
  maxBytes: number,
  sink: Step2Sink,
): Promise<void> => {
  const cache = source.fanOut.syncAnswers
  // The document as it is now: a cold one that hydrated while the parts streamed is its
  // Y.Doc, which has all the encoded state had and what it took since (no update carried
  // that to this peer: they wait while its answer streams).
  const now = (): AnswerSubject => source.doc ?? source.encoded ?? doc
  const diff = (since: Uint8Array) => {
    const form = now()
    return form instanceof Y.Doc ? source.diffLoaded(form, since, theirDeletes) : form.diff(since, theirDeletes)
  }
  const compute = () => new SyncAnswer(doc, sv, maxBytes, diff, cache, now)
  let answer: SyncAnswer
  try {
    answer = theirDeletes === undefined ? cache.answer(doc, sv, maxBytes, compute) : compute()
  } catch (err) {
    return Promise.reject(err)
  }
  return streamAnswer(answer, sink)
}
