import type { PeerContext } from './access.js'

/**
 * Hooks through which a replica reports what it does, for metrics and logs. Every hook
 * is optional and must not throw; the relay implements them with Prometheus counters.
 */
export interface ReplicaObserver {
  /** A frame arrived from a peer (`type` is the message type, or 'invalid'). */
  messageIn?(peerId: string, type: string, bytes: number): void
  /** A frame went out to a peer. */
  messageOut?(peerId: string, type: string, bytes: number): void
  /** A peer sent something that broke the protocol; it is being closed with `closeCode` (once a connection, however many errors it made). */
  protocolError?(peerId: string, code: string, closeCode: number): void
  /** An update was made durable, taking `ms`. */
  persisted?(doc: string, bytes: number, ms: number): void
  /**
   * An update that arrived `ms` ago is durable, applied, and was handed to the links of every
   * other session of its document `ms` after it arrived (sends are synchronous: its last
   * socket write was done then; an update sent as received is applied after it).
   * With durable before visible, this is the relay's whole share of a delivery's latency.
   */
  forwarded?(doc: string, ms: number): void
  /** The store failed to persist an update. */
  storeError?(doc: string, err: unknown): void
  /** A session reached sync with its peer `ms` after it started. */
  synced?(doc: string, ms: number): void
  /** A peer finished its handshake. */
  peerOpened?(peerId: string, role: string): void
  /** The connection of a peer that had finished its handshake closed. */
  peerClosed?(peerId: string, role: string, code: number, reason: string): void
  /** Flow control stopped reading a peer's connection (flow-control.ts). */
  flowPaused?(peerId: string): void
  /** It reads that connection again, or the connection closed while paused, after `ms` paused. */
  flowResumed?(peerId: string, ms: number): void
  /**
   * A document was loaded into memory (its Y.Doc built), or dropped from it. A relay's
   * document served cold (ReplicaOptions.coldDocs) has no docLoaded; its docUnloaded comes
   * with `built` false (true, or undefined from older callers: it had a Y.Doc).
   */
  docLoaded?(doc: string): void
  docUnloaded?(doc: string, built?: boolean): void
  /** A relay started serving a document cold (its encoded state read), or stopped (hydrated or dropped). */
  docCold?(doc: string, cold: boolean): void
  /**
   * An update is durable and applied to the loaded document; `context` is who sent it
   * (undefined for a mesh relay or an anonymous peer). Not called for duplicates.
   */
  changed?(doc: string, update: Uint8Array, context: PeerContext | undefined): void
  /** A document was deleted from the store (Replica.deleteDoc). */
  docDeleted?(doc: string): void
  /** Presence changed on a document; `context` is who sent it (undefined when local). */
  awareness?(doc: string, clients: AwarenessClients, context: PeerContext | undefined): void
}

/** The awareness clients an awareness update added, updated and removed. */
export interface AwarenessClients {
  added: number[]
  updated: number[]
  removed: number[]
}
