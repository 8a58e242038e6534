/**
 * What a replica does differently as a client or as a relay, decided here once instead
 * of by role checks spread over the code.
 */
import type { PeerRole } from './messages.js'

export interface RolePolicy {
  readonly role: PeerRole
  /**
   * A link to a remote of `remoteRole` is a mesh link: both ends are relays, every
   * document streams, inventories are compared, and per-client limits do not apply.
   */
  isMesh(remoteRole: PeerRole): boolean
  /** Joins a session the remote starts only for documents the app holds open (else: any the remote may read). */
  readonly sharesOnlyOpenDocs: boolean
  /** Acknowledges what it made durable with `saved` (where the framing carries it). */
  readonly acknowledges: boolean
  /** Counts local changes until an upstream relay confirms them, and tells the app each document's status. */
  readonly tracksSaves: boolean
  /** Checks every update in full before storing it (a client takes its relay's word). */
  readonly validatesUpdates: boolean
  /** Has presence of its own; passes on only that (a relay passes on everyone's, and has none). */
  readonly hasOwnPresence: boolean
  /** Merges presence changes before passing them on (awarenessCoalesceMs); a client sends its own at once. */
  readonly coalescesPresence: boolean
  /** Gives every mesh link a session on each document that changes. */
  readonly streamsToMesh: boolean
  /** Streams updates on a session only after its own step 2 went out (see DocSession.answered). */
  readonly updatesAfterStep2: boolean
  /** Ms a document stays in memory once nothing holds it. */
  unloadDelay(configured: number): number
}

const client: RolePolicy = {
  role: 'client',
  isMesh: () => false,
  sharesOnlyOpenDocs: true,
  acknowledges: false,
  tracksSaves: true,
  validatesUpdates: false,
  hasOwnPresence: true,
  coalescesPresence: false,
  streamsToMesh: false,
  updatesAfterStep2: true,
  unloadDelay: () => 0,
}

const relay: RolePolicy = {
  role: 'relay',
  isMesh: (remoteRole) => remoteRole === 'relay',
  sharesOnlyOpenDocs: false,
  acknowledges: true,
  tracksSaves: false,
  validatesUpdates: true,
  hasOwnPresence: false,
  coalescesPresence: true,
  streamsToMesh: true,
  updatesAfterStep2: false,
  unloadDelay: (configured) => configured,
}

export const rolePolicy = (role: PeerRole): RolePolicy => (role === 'relay' ? relay : client)
