import type * as Y from 'yjs'

/** Edits to one part of the note less than this many ms apart are one change. */
export const CHANGE_GAP_MS = 2000

const keyOf = (doc: string) => `converge-notes:unsaved:${doc}`

/**
 * How many changes made in this browser the relay has not yet confirmed, for the header.
 * A change is what a person would count: a run of typing in the title or the body, adding,
 * ticking, renaming or deleting a task, not one per keystroke (the replica's own count is
 * per Yjs transaction). The count lives in localStorage, so a reload, offline too, shows
 * the same number, and the tabs of one browser share it.
 */
export class UnsavedChanges {
  private readonly doc: Y.Doc
  private readonly key: string
  private readonly changed: () => void
  private last: { part: unknown; at: number } | undefined

  constructor(doc: Y.Doc, name: string, changed: () => void) {
    this.doc = doc
    this.key = keyOf(name)
    this.changed = changed
    doc.on('afterTransaction', this.onTransaction)
    addEventListener('storage', this.onStorage)
  }

  count(): number {
    const n = Number(localStorage.getItem(this.key) ?? 0)
    return Number.isInteger(n) && n > 0 ? n : 0
  }

  /** The relay has confirmed every change: the count starts again from zero. */
  saved(): void {
    this.last = undefined
    if (this.count() !== 0) localStorage.removeItem(this.key)
  }

  private readonly onTransaction = (tr: Y.Transaction) => {
    // Remote and stored updates are applied, not local; only this tab's own edits count.
    if (!tr.local || tr.changed.size === 0) return
    const part = tr.changed.keys().next().value
    const now = Date.now()
    const same = this.last !== undefined && this.last.part === part && now - this.last.at < CHANGE_GAP_MS
    this.last = { part, at: now }
    if (!same) localStorage.setItem(this.key, String(this.count() + 1))
  }

  private readonly onStorage = (event: StorageEvent) => {
    if (event.key === this.key) this.changed()
  }

  destroy(): void {
    this.doc.off('afterTransaction', this.onTransaction)
    removeEventListener('storage', this.onStorage)
  }
}
