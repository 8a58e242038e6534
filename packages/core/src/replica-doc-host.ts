import type { PeerContext } from './access.js'
import type { PresenceSweep } from './presence-sweep.js'
import type { ReplicaDoc } from './replica-doc.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { RolePolicy } from './role-policy.js'
import type { Store } from './store.js'

// The contracts between a ReplicaDoc, its replica and the sessions that share it.

/** Origin of transactions whose update is already durable in the store. */
export const DURABLE_ORIGIN = Symbol('converge:durable')
/** Origin of the transaction that loads a document from the store. */
export const LOAD_ORIGIN = Symbol('converge:load')

/** What a ReplicaDoc needs from a session attached to it. */
export interface AttachedSession {
  /** Ready to carry updates (its sync exchange has started). */
  readonly started: boolean
  /** The remote side is a relay this replica saves to. */
  readonly upstream: boolean
  /** The remote side is a relay peer of a relay (a mesh link). */
  readonly meshLink: boolean
  /** Holds the document loaded while it lives (a client subscription on a relay). */
  readonly holdsDoc: boolean
  /** Synced with the remote: its sync step 2 was applied. */
  readonly synced: boolean
  /** Has answered the remote's sync step 1 with its step 2. */
  readonly answered: boolean
  readonly awarenessClients: ReadonlySet<number>
  /** Who the remote is, as its authentication decided. */
  readonly context?: PeerContext
  sendUpdate(update: Uint8Array): void
  sendAwareness(update: Uint8Array): void
  /** Sends an app-defined message (dropped on framings without one). */
  sendStateless(payload: string): void
  /** Ends the session; `notify` tells the remote side with an unsubscribe. */
  end(notify: boolean): void
}

/** What a ReplicaDoc needs from its replica. */
export interface DocHost {
  readonly store: Store
  readonly policy: RolePolicy
  readonly gc: boolean
  readonly unloadDelay: number
  /** See ReplicaOptions.awarenessCoalesceMs (default DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMs). */
  readonly awarenessCoalesceMs?: number
  /** See ReplicaOptions.awarenessFramesPerSecond and awarenessCoalesceMaxMs. */
  readonly awarenessFramesPerSecond?: number
  readonly awarenessCoalesceMaxMs?: number
  readonly maxPendingBytes: number
  readonly maxNestingDepth: number
  readonly maxDocBytes: number
  /** See ReplicaOptions.maxMergedUpdateBytes. */
  readonly maxMergedUpdateBytes: number
  /** Serves documents from their encoded state until one needs a Y.Doc (ReplicaOptions.coldDocs; relays only). */
  readonly coldDocs: boolean
  /** See ReplicaOptions.coldWritesBeforeLoad. */
  readonly coldWritesBeforeLoad: number
  readonly observer: ReplicaObserver
  /** Times out the presence of every document of a relay (presence-table.ts); one per replica. */
  readonly presenceSweep: PresenceSweep
  /**
   * The content of a document the store has never held, stored before anyone sees the
   * document (see ReplicaOptions.seedDocument).
   */
  readonly seedDocument?: (name: string) => Promise<Uint8Array | undefined>
  /** Extra condition before an update is acknowledged as saved (ReplicaOptions.savedWhen). */
  readonly savedWhen?: ((doc: string, update: Uint8Array) => Promise<void> | undefined) | undefined
  /** The sessions that share `rdoc` (the document router's registry owns them). */
  sessionsOf(rdoc: ReplicaDoc): ReadonlySet<AttachedSession>
  /** Gives every mesh link a session for this document, so updates stream to all relays. */
  linkDoc(rdoc: ReplicaDoc): void
  /** The document has nothing holding it and may be dropped. */
  unloaded(rdoc: ReplicaDoc): void
  statusChanged(rdoc: ReplicaDoc): void
  reportError(err: unknown, context: string): void
  /** An app-defined message arrived on a session (see Replica's 'stateless' event). */
  statelessReceived?(doc: string, payload: string, from: StatelessSender): void
}

/** Who sent a stateless message, and how to answer on the same session. */
export interface StatelessSender {
  readonly context: PeerContext | undefined
  /** The remote side is a relay (upstream or mesh), not a client. */
  readonly relay: boolean
  reply(payload: string): void
}
