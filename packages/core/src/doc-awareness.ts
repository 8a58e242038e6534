import type { AdmittedAwareness, AwarenessGuard } from './awareness-guard.js'
import { readAwarenessClients } from './awareness-ids.js'
import type { DocPresence } from './doc-presence.js'
import { DEFAULT_REPLICA_OPTIONS } from './replica-defaults.js'
import type { AttachedSession, DocHost } from './replica-doc-host.js'

// The presence (awareness) of one document as its sessions bring and take it.

export type { AwarenessChange } from './doc-presence.js'

/** No presence id is ever this (ids are unsigned): a relay's presence has none of its own. */
const NO_OWN_ID = -1

/**
 * Presence from `session`, as a replica takes it. A replica with presence of its own
 * (a client) takes its relay's and its tabs' word; one that relays presence ties each id
 * to the session that announced it (awareness-guard.ts).
 */
export const admitPresence = (
  awareness: DocPresence | undefined,
  hasOwnPresence: boolean,
  guard: AwarenessGuard,
  update: Uint8Array,
  session: AttachedSession,
  maxStates: number,
): AdmittedAwareness => {
  if (hasOwnPresence || awareness === undefined) return { update, ...readAwarenessClients(update), dropped: 0 }
  return guard.admit(
    update,
    session,
    (id) => awareness.has(id),
    awareness.ownId ?? NO_OWN_ID,
    maxStates,
    (id) => awareness.clockOf(id),
  )
}

/** Every awareness state known, encoded, or undefined when there is none. */
export const encodeAllAwarenessStates = (awareness: DocPresence | undefined): Uint8Array | undefined => {
  if (awareness === undefined || awareness.size === 0) return undefined
  return awareness.encode(awareness.ids())
}

/** Removes the presence of the clients `session` spoke for that no other of `sessions` speaks for. */
export const removeOrphanedPresence = (
  awareness: DocPresence,
  sessions: Iterable<AttachedSession>,
  session: AttachedSession,
): void => {
  if (session.awarenessClients.size === 0) return
  const stillHeld = new Set<number>()
  for (const s of sessions) for (const c of s.awarenessClients) stillHeld.add(c)
  const gone = [...session.awarenessClients].filter((c) => !stillHeld.has(c) && c !== awareness.ownId)
  if (gone.length > 0) awareness.remove(gone, session)
}

/** How long a document's presence changes are merged before they go out (see `presenceWindowMs`). */
export interface PresenceWindow {
  /** The window, in ms (0: each change at once). */
  baseMs: number
  /** Most merged presence frames a second over all sessions (0: the window does not stretch). */
  framesPerSecond: number
  /** The longest a stretched window gets, in ms. */
  maxMs: number
}

const AT_ONCE: PresenceWindow = { baseMs: 0, framesPerSecond: 0, maxMs: 0 }

/** The presence window of `host`'s documents: none for a client, the options' on a relay. */
export const presenceDelay = (host: DocHost): PresenceWindow =>
  host.policy.coalescesPresence
    ? {
        baseMs: host.awarenessCoalesceMs ?? DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMs,
        framesPerSecond: host.awarenessFramesPerSecond ?? DEFAULT_REPLICA_OPTIONS.awarenessFramesPerSecond,
        maxMs: host.awarenessCoalesceMaxMs ?? DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMaxMs,
      }
    : AT_ONCE

/**
 * The merge window of a document with `sessions` sessions: `baseMs`, stretched so that
 * sessions × (1 s ÷ window) stays within `framesPerSecond`, up to `maxMs`. A document's
 * presence then costs about as much with 200 readers as with 100; the wait grows with the
 * readers, not with the writers.
 */
export const presenceWindowMs = (w: PresenceWindow, sessions: number): number => {
  if (w.baseMs <= 0) return 0
  if (w.framesPerSecond <= 0) return w.baseMs
  return Math.max(w.baseMs, Math.min(w.maxMs, Math.ceil((1000 * sessions) / w.framesPerSecond)))
}

/**
 * Sends the current presence of `clients` to every started session but `origin`: one
 * update, encoded once, whose message each framing encodes once (broadcast.ts).
 */
export const broadcastPresence = (
  awareness: DocPresence | undefined,
  sessions: Iterable<AttachedSession>,
  clients: number[],
  origin: unknown,
): void => {
  if (awareness === undefined) return
  let update: Uint8Array | undefined
  for (const s of sessions) {
    if (s === origin || !s.started) continue
    update ??= awareness.encode(clients)
    s.sendAwareness(update)
  }
}
