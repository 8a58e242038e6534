/**
 * What one loaded document derives once and sends alike to many sessions: its delete set
 * (for delete digests), the sync answers peers at one state vector share
 * (sync-answer-cache.ts), and its presence changes merged before they go out
 * (awareness-coalescer.ts). One object, so a document holds it in one field and clears it
 * in one call when it changes.
 */
import { AwarenessCoalescer } from './awareness-coalescer.js'
import { type AwarenessChange, broadcastPresence, type PresenceWindow, presenceWindowMs } from './doc-awareness.js'
import { DeleteSetCache } from './doc-diff.js'
import type { DocPresence } from './doc-presence.js'
import type { AttachedSession } from './replica-doc-host.js'
import { SyncAnswerCache } from './sync-answer-cache.js'

/** The document whose presence goes out: its presence and sessions as they are when it does. */
export interface PresenceSource {
  readonly awareness: DocPresence | undefined
  readonly sessions: ReadonlySet<AttachedSession>
}

export class DocFanOut {
  /** The loaded document's delete set, shared by its sessions. */
  readonly deleteSets = new DeleteSetCache()
  /** Sync answers shared by the peers asking at one state vector. */
  readonly syncAnswers = new SyncAnswerCache()
  /** Made on the first presence change. */
  private presence: AwarenessCoalescer | undefined

  /** The Y.Doc changed: what was derived from it is stale. */
  changed(): void {
    this.deleteSets.clear()
    this.syncAnswers.clear()
  }

  /** A presence change of `doc`: goes to its sessions (but `origin`) once merged, within `window`. */
  presenceChanged(change: AwarenessChange, origin: unknown, window: PresenceWindow, doc: PresenceSource): void {
    this.presence ??= new AwarenessCoalescer(
      () => presenceWindowMs(window, doc.sessions.size),
      (clients, from) => broadcastPresence(doc.awareness, doc.sessions, clients, from),
    )
    this.presence.change(change, origin)
  }

  /** The document unloads: nothing pending goes out, nothing derived is kept. */
  dispose(): void {
    this.presence?.dispose()
    this.changed()
  }
}
