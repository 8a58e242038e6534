/**
 * Who may speak for which presence on a relay. Each awareness client id belongs to the
 * session that first announced it, until its state is gone or that session ends; an
 * update from another session for that id is dropped, so a peer (even a read-only one)
 * cannot overwrite or remove another user's presence. Client sessions may hold at most
 * `maxAwarenessStatesPerSession` ids; mesh links and upstream relays carry everyone's.
 */
import {
  type AwarenessEntryRef,
  awarenessSubset,
  checkAwarenessState,
  isRemoval,
  scanAwarenessEntries,
} from './awareness-ids.js'
import { ConvergeError } from './errors.js'

/** What the guard needs of a session: the ids it speaks for (kept by the session). */
export interface PresenceSpeaker {
  readonly awarenessClients: ReadonlySet<number>
}

export interface AdmittedAwareness {
  /** The update to apply, with foreign ids left out; undefined when nothing is left. */
  update: Uint8Array | undefined
  /** Ids the update sets (now owned by the session) and removes. */
  present: number[]
  removed: number[]
  /** Entries left out because another session owns their id. */
  dropped: number
}

export class AwarenessGuard {
  /** Made on the first id claimed (most documents a relay holds never see presence). */
  private owners: Map<number, PresenceSpeaker> | undefined

  /**
   * Filters `update` from `session`. `hasState(id)` tells whether a state for the id is
   * still held (an owner whose state timed out owns it no more); `localId` is this
   * replica's own awareness id, which no peer may speak for. `clockOf(id)` is the clock
   * known for the id: an entry no newer than it changes nothing (Yjs would ignore it) and
   * is left out, so it neither claims an id nor costs an apply. Stock y-websocket clients
   * echo every presence update they receive back to the server, so about half of what a
   * relay receives is echoes: their clocks are read first and their states never decoded.
   * A late echo of a client that has left must not count against the echoing session.
   * Only the entries kept are decoded and checked (checkAwarenessState). Throws
   * CONVERGE_LIMIT_EXCEEDED when the session would speak for more than `maxStates` ids.
   */
  admit(
    update: Uint8Array,
    session: PresenceSpeaker,
    hasState: (id: number) => boolean,
    localId: number,
    maxStates: number,
    clockOf: (id: number) => number | undefined = () => undefined,
  ): AdmittedAwareness {
    const entries = scanAwarenessEntries(update)
    const kept: AwarenessEntryRef[] = []
    const present: number[] = []
    const removed: number[] = []
    let claims = 0
    for (const e of entries) {
      const owner = this.owners?.get(e.client)
      if (e.client === localId || (owner !== undefined && owner !== session && hasState(e.client))) continue
      const removal = isRemoval(update, e)
      if (isStale(e.clock, removal, clockOf(e.client))) continue
      // Only a state that is going to be applied is decoded and checked: an echo costs no decoding.
      checkAwarenessState(update, e)
      if (removal) removed.push(e.client)
      else {
        present.push(e.client)
        if (owner !== session && !session.awarenessClients.has(e.client)) claims++
      }
      kept.push(e)
    }
    if (claims > 0 && session.awarenessClients.size + claims > maxStates) {
      throw new ConvergeError('CONVERGE_LIMIT_EXCEEDED', `more than ${maxStates} awareness states from one session`)
    }
    if (present.length > 0) this.owners ??= new Map()
    for (const client of present) this.owners?.set(client, session)
    const dropped = entries.length - kept.length
    return {
      update: kept.length === 0 ? undefined : dropped === 0 ? update : awarenessSubset(update, kept),
      present,
      removed,
      dropped,
    }
  }

  /** The id's state is gone: nobody owns it now. */
  released(id: number): void {
    this.owners?.delete(id)
  }

  /** The session ended: it owns nothing now. */
  releaseAll(session: PresenceSpeaker): void {
    if (this.owners === undefined) return
    for (const [id, owner] of this.owners) if (owner === session) this.owners.delete(id)
  }
}

/** An entry Yjs would not apply: older than the known clock, or a state at that very clock (only a removal applies there). */
const isStale = (clock: number, removal: boolean, known: number | undefined): boolean =>
  known !== undefined && (clock < known || (clock === known && !removal))
