import * as Y from 'yjs'
import type { AppendMetaTracker } from './append-meta.js'
import { nextTurn } from './next-turn.js'
import type { DocHost } from './replica-doc-host.js'

/**
 * The local edits of one document (the app's, on a client or a server document) made
 * durable: each appended as it is made, with its change-log metadata. After a failed
 * write the whole state is written once more: later edits build on the lost one and are
 * stored, and without it the store would hold changes that never apply (pending structs
 * on every load, and on every peer the doc syncs to).
 */
export class LocalEditWrites {
  private rewriting: Promise<void> | undefined

  /** `current()`: the document's Y.Doc while it is loaded and not destroyed. */
  constructor(
    private readonly host: DocHost,
    private readonly name: string,
    private readonly appendMeta: AppendMetaTracker,
    private readonly current: () => Y.Doc | undefined,
  ) {}

  /** Appends a local edit of `doc`; settles once it is durable, or once the whole state was written again. */
  write(doc: Y.Doc, update: Uint8Array): Promise<void> {
    const meta =
      this.host.store.changes === undefined ? undefined : this.appendMeta.metaOf(doc, update, undefined, undefined)
    return this.host.store
      .append(this.name, update, meta)
      .then(() => this.host.observer.changed?.(this.name, update, undefined))
      .catch((err) => {
        this.appendMeta.reset()
        this.host.observer.storeError?.(this.name, err)
        this.host.reportError(err, `persisting a local edit of ${this.name}`)
        return this.persistWholeState()
      })
  }

  private persistWholeState(): Promise<void> {
    // Once per turn however many writes failed, and on the next turn: a store refuses
    // appends in the turn it reports a failure (see Store: appends land in order). That
    // turn ends with the store's onNextTurn (failed-turn.ts), queued before this one, so
    // this runs after it; a timer could fire first (setTimeout(0) is a 1 ms timer, due
    // before the immediate when the failure came in a check phase) and be refused too.
    this.rewriting ??= nextTurn().then(async () => {
      this.rewriting = undefined
      const doc = this.current()
      if (doc === undefined) return
      try {
        await this.host.store.append(this.name, Y.encodeStateAsUpdate(doc))
      } catch (err) {
        this.host.observer.storeError?.(this.name, err)
        this.host.reportError(err, `persisting ${this.name} again after a failed write`)
      }
    })
    return this.rewriting
  }
}
