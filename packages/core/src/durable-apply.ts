import * as Y from 'yjs'
import { ConvergeError } from './errors.js'

/**
 * Applying durable updates to a document in runs. Updates made durable together (one store
 * batch: their appends resolve in the same microtask checkpoint) are applied in one Yjs
 * transaction per run of the same origin, in the order they arrived, up to `maxRunBytes`
 * of updates per run. The document then emits one update per run, so it is encoded once
 * and forwarded to each session as one message, instead of one transaction, one encoding
 * and one message per session for every update of a burst. Durable before visible holds:
 * only durable updates enter a run.
 */

export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/**
 * Applies `updates` from `origin` in one transaction; returns the error each one threw
 * (undefined: applied). `decoded`: each update as its checks decoded it, where they did.
 */
export type ApplyRun = (
  updates: readonly Uint8Array[],
  origin: unknown,
  decoded: ReadonlyArray<DecodedUpdate | undefined>,
) => ReadonlyArray<unknown>

/** A run being applied (see DurableApply.applying). */
export interface ApplyingRun {
  origin: unknown
  echoToOrigin: boolean
  /**
   * When the run went out before its apply (forward-as-received.ts): the time of its last
   * send, and the document's update of the run is not sent again (`sentFirst`, cleared by
   * the update event that consumes it).
   */
  sentAt?: number
  sentFirst?: boolean
}

interface Entry {
  update: Uint8Array
  origin: unknown
  decoded: DecodedUpdate | undefined
  /** Settles with the time the update went out, when that was before its apply (ApplyingRun.sentAt). */
  resolve(sentAt: number | undefined): void
  reject(err: unknown): void
}

export class DurableApply {
  /**
   * The run being applied, while it is. Its origin: a session's update is from a peer even
   * when the session ended while the append was pending, not a local edit to write again
   * (a later transaction, an app's observer, is not this origin). echoToOrigin: an update
   * of the run completed pending content, so the document's update holds more than the
   * origin sent and goes back to it as well (set by applyInOneTransaction).
   */
  applying: ApplyingRun | undefined
  private pending: Entry[] = []
  private scheduled = false

  constructor(
    private readonly applyRun: ApplyRun,
    private readonly maxRunBytes: number,
  ) {}

  /**
   * Applies `update` (durable) with the others made durable with it; settles once it is
   * applied, with the time it was sent when it went out before its apply.
   */
  apply(update: Uint8Array, origin: unknown, decoded?: DecodedUpdate): Promise<number | undefined> {
    return new Promise<number | undefined>((resolve, reject) => {
      this.pending.push({ update, origin, decoded, resolve, reject })
      if (this.scheduled) return
      this.scheduled = true
      // After the other appends of the same batch: their continuations are already queued.
      queueMicrotask(() => this.flush())
    })
  }

  private flush(): void {
    this.scheduled = false
    const entries = this.pending
    this.pending = []
    for (let i = 0; i < entries.length; ) {
      const origin = (entries[i] as Entry).origin
      let bytes = (entries[i] as Entry).update.length
      let end = i + 1
      for (; end < entries.length; end++) {
        const next = entries[end] as Entry
        if (next.origin !== origin || bytes + next.update.length > this.maxRunBytes) break
        bytes += next.update.length
      }
      const run = entries.slice(i, end)
      let errors: ReadonlyArray<unknown>
      const applying: ApplyingRun = { origin, echoToOrigin: false }
      this.applying = applying
      try {
        errors = this.applyRun(
          run.map((e) => e.update),
          origin,
          run.map((e) => e.decoded),
        )
      } catch (err) {
        errors = run.map(() => err)
      } finally {
        this.applying = undefined
      }
      run.forEach((e, k) => {
        const err = errors[k]
        if (err === undefined) e.resolve(applying.sentAt)
        else e.reject(err)
      })
      i = end
    }
  }
}

/**
 * Applies `updates` to `doc` in one transaction from `origin` (remote, as Y.applyUpdate
 * does), marking `run` to echo to its origin when an update meets pending content.
 * Returns the error each update threw.
 */
export const applyInOneTransaction = (
  doc: Y.Doc,
  updates: readonly Uint8Array[],
  origin: unknown,
  run: ApplyingRun | undefined,
): unknown[] => {
  const errors: unknown[] = new Array(updates.length)
  Y.transact(
    doc,
    () => {
      updates.forEach((update, k) => {
        try {
          // An update that completes pending structs or deletions applies them too.
          if (run !== undefined) run.echoToOrigin ||= doc.store.pendingStructs !== null || doc.store.pendingDs !== null
          Y.applyUpdate(doc, update, origin)
        } catch (err) {
          errors[k] = err ?? new Error('applyUpdate threw')
        }
      })
    },
    origin,
    false,
  )
  return errors
}

/** A run's error for an update Yjs could not apply (undefined: applied), as the sender is told. */
export const notApplied = (err: unknown): ConvergeError | undefined =>
  err === undefined
    ? undefined
    : new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `update could not be applied: ${(err as Error)?.message}`, {
        cause: err,
      })
