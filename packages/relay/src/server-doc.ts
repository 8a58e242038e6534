import type { PeerContext, Replica } from '@converge/core'
import * as Y from 'yjs'

/** Origin of the updates a ServerDocument takes from the relay's document (not to be sent back). */
const FROM_RELAY = Symbol('converge:from-relay')

/**
 * A document edited on the relay itself (`relay.open(name, context)`). `doc` is a copy of
 * the relay's document: edit it like any Y.Doc. Each of its transactions becomes one
 * update that takes the relay's durable path: appended to the store, then applied to the
 * relay's document and sent to its clients and mesh peers, recorded with `context.user`
 * in the change feed. Changes from clients flow into `doc` as they become visible.
 *
 * ```ts
 * const handle = await relay.open('notes', { user: 'importer' })
 * handle.doc.getText('body').insert(0, 'hello')
 * await handle.whenSaved()
 * await handle.close()
 * ```
 */
export class ServerDocument {
  readonly name: string
  readonly doc: Y.Doc
  private readonly replica: Replica
  private readonly context: PeerContext | undefined
  private readonly live: Y.Doc
  private readonly pending = new Set<Promise<void>>()
  private failure: unknown
  private closed = false
  private readonly onLiveUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== this) Y.applyUpdate(this.doc, update, FROM_RELAY)
  }
  private readonly onOwnUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === FROM_RELAY) return
    const applied = this.replica.applyUpdate(this.name, update, this.context)
    this.pending.add(applied)
    applied.then(
      () => this.pending.delete(applied),
      (err) => {
        this.pending.delete(applied)
        this.failure ??= err
      },
    )
  }

  private constructor(replica: Replica, name: string, live: Y.Doc, context: PeerContext | undefined) {
    this.replica = replica
    this.name = name
    this.live = live
    this.context = context
    this.doc = new Y.Doc({ gc: live.gc })
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(live), FROM_RELAY)
    live.on('update', this.onLiveUpdate)
    this.doc.on('update', this.onOwnUpdate)
  }

  /** Opens `name` on `replica`: resolves once its stored state is loaded (and seeded if new). */
  static async open(replica: Replica, name: string, context?: PeerContext): Promise<ServerDocument> {
    const live = await replica.open(name)
    return new ServerDocument(replica, name, live, context)
  }

  /** Resolves when every edit made so far is durable and visible; rejects if one failed to persist. */
  async whenSaved(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
    if (this.failure !== undefined) {
      const err = this.failure
      this.failure = undefined
      throw err
    }
  }

  /** Waits for pending edits, then lets the relay unload the document when nobody else holds it. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.whenSaved()
    } finally {
      this.live.off('update', this.onLiveUpdate)
      this.doc.off('update', this.onOwnUpdate)
      this.doc.destroy()
      await this.replica.close(this.name)
    }
  }
}
