import * as Y from 'yjs'

/**
 * Applying durable updates to a document in runs. Updates made durable together (one store
 * batch: their appends resolve in the same microtask checkpoint) are applied in one Yjs
 * transaction per run of the same origin, in the order they arrived, up to `maxRunBytes`
 * of updates per run. The document then emits one update per run, so it is encoded once
 * and forwarded to each session as one message, instead of one transaction, one encoding
 * and one message per session for every update of a burst. Durable before visible holds:
 * only durable updates enter a run.
 */

/** Applies `updates` from `origin` in one transaction; returns the error each one threw (undefined: applied). */
export type ApplyRun = (updates: readonly Uint8Array[], origin: unknown) => ReadonlyArray<unknown>

/** A run being applied (see DurableApply.applying). */
export interface ApplyingRun {
  origin: unknown
  echoToOrigin: boolean
}

interface Entry {
  update: Uint8Array
  origin: unknown
  resolve(): void
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

  /** Applies `update` (durable) with the others made durable with it; settles once it is applied. */
  apply(update: Uint8Array, origin: unknown): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ update, origin, resolve, reject })
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
      this.applying = { origin, echoToOrigin: false }
      try {
        errors = this.applyRun(
          run.map((e) => e.update),
          origin,
        )
      } catch (err) {
        errors = run.map(() => err)
      } finally {
        this.applying = undefined
      }
      run.forEach((e, k) => {
        const err = errors[k]
        if (err === undefined) e.resolve()
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
