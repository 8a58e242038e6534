/**
 * Deletes that win. A relay records every deleted document in a tombstone map, kept in a
 * reserved document (`.converge/tombstones`, a Y.Map from name to { at }) that the mesh
 * replicates like any other, to every peer relay whatever its token's scope (only peers
 * that may write the reserved name write it; see document-router.ts). A tombstoned name is refused to every client (error frame
 * CONVERGE_DOC_DELETED on converge.v1, close 4410 on y-websocket) and its content from any
 * peer is dropped, so neither a client's next full-state update nor a mesh peer's write
 * brings it back; only `recreate` (the admin API) lifts the tombstone.
 */
import type * as Y from 'yjs'
import { ConvergeError } from './errors.js'

/** Names under this prefix are the replica's own (never served to clients). */
export const RESERVED_DOC_PREFIX = '.converge/'
/** The reserved document holding the tombstones. */
export const TOMBSTONES_DOC = `${RESERVED_DOC_PREFIX}tombstones`

export const isReservedDocName = (name: string): boolean => name.startsWith(RESERVED_DOC_PREFIX)

export const docDeleted = (name: string): ConvergeError =>
  new ConvergeError('CONVERGE_DOC_DELETED', `${name.slice(0, 120)} was deleted (recreate it through the admin API)`)

/** Origin of this replica's own changes to the tombstones (its document appends them as local edits). */
const LOCAL = Symbol('converge:tombstone')

interface Entry {
  /** When the delete was made, ms since the epoch. */
  at: number
}

export class Tombstones {
  private map: Y.Map<Entry> | undefined
  /** Erases a document (sessions, memory, store): run for every tombstone, local or replicated. */
  private readonly erase: (name: string) => Promise<void>
  private readonly reportError: (err: unknown, context: string) => void

  constructor(erase: (name: string) => Promise<void>, reportError: (err: unknown, context: string) => void) {
    this.erase = erase
    this.reportError = reportError
  }

  /** Starts honouring the tombstones of `doc` (the loaded TOMBSTONES_DOC); erases what `stored` still holds of them. */
  attach(doc: Y.Doc, stored: Iterable<string>): void {
    const map = doc.getMap<Entry>('deleted')
    this.map = map
    map.observe((event) => {
      if (event.transaction.origin === LOCAL) return
      for (const name of event.keysChanged) if (map.has(name)) this.eraseLogged(name)
    })
    // A crash between a tombstone and its erasure leaves content behind: erase it now.
    for (const name of stored) if (map.has(name)) this.eraseLogged(name)
  }

  isDeleted(name: string): boolean {
    return this.map?.has(name) ?? false
  }

  /** Records the delete of `name` (it replicates to the mesh) and erases it here. */
  async delete(name: string): Promise<void> {
    const map = this.requireMap()
    map.doc?.transact(() => map.set(name, { at: Date.now() }), LOCAL)
    await this.erase(name)
  }

  /** Lifts the tombstone of `name`: the name may be written again. */
  recreate(name: string): void {
    const map = this.requireMap()
    map.doc?.transact(() => map.delete(name), LOCAL)
  }

  private eraseLogged(name: string): void {
    this.erase(name).catch((err) => this.reportError(err, `erasing deleted document ${name}`))
  }

  private requireMap(): Y.Map<Entry> {
    if (this.map === undefined) throw new ConvergeError('CONVERGE_INTERNAL', 'tombstones are not loaded yet')
    return this.map
  }
}
