// What an app is told about one document's connection and saves.

/** What an app can show about one document. */
export interface DocStatus {
  /** 'online' when a relay connection is open, 'connecting' while one is being tried. */
  connection: 'offline' | 'connecting' | 'online'
  /** The document has exchanged state with a relay over the current connection. */
  synced: boolean
  /** Every local change is durable on a relay. */
  saved: boolean
  /** Local changes a relay has not yet confirmed durable. */
  unsaved: number
  /**
   * One word for a status line: 'offline' without an open relay connection, else 'saving'
   * while changes wait for a relay's confirmation, else 'saved'.
   */
  summary: 'offline' | 'saving' | 'saved'
}

/** A document's status from its upstream connection and its count of unconfirmed local changes. */
export const docStatus = (
  { connection, synced }: { connection: DocStatus['connection']; synced: boolean },
  unsaved: number,
): DocStatus => {
  const summary = connection !== 'online' ? 'offline' : unsaved > 0 ? 'saving' : 'saved'
  return { connection, synced, saved: unsaved === 0, unsaved, summary }
}

/** The last status told of each document, so the app hears of changes only. */
export class StatusChanges {
  readonly #last = new Map<string, string>()

  /** Whether `status` differs from the last one told of `name` (and remembers it). */
  changed(name: string, status: DocStatus): boolean {
    const key = JSON.stringify(status)
    if (this.#last.get(name) === key) return false
    this.#last.set(name, key)
    return true
  }

  forget(name: string): void {
    this.#last.delete(name)
  }
}
