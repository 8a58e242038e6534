import type { PeerContext } from './access.js'
import { CloseCode } from './close-codes.js'
import { Emitter } from './emitter.js'
import type { ConvergeError } from './errors.js'
import type { Link, PeerStatus } from './link.js'
import type { PeerRole } from './messages.js'

export interface PeerEvents {
  status: (status: PeerStatus, peer: Peer) => void
  error: (err: ConvergeError, peer: Peer) => void
  /** A mesh link finished syncing every document that differed after an inventory exchange. */
  'inventory-synced': (docs: number, peer: Peer) => void
}

/** Who tells a Peer which documents its connection shares (the replica's router). */
interface SharedDocs {
  sharedOver(link: Link): Array<{ doc: string; synced: boolean }>
}

/**
 * A connection to one remote replica (or, on a BroadcastChannel, to the other tabs), as
 * `Replica.connect()` and `accept()` return it: its status and events, `reconnect()` and
 * `close()`. The connection itself is a Link; the replica's DocumentRouter decides which
 * documents cross it.
 */
export class Peer extends Emitter<PeerEvents> {
  readonly #link: Link
  readonly #shared: SharedDocs

  /** @internal Made by Replica.connect and Replica.accept. */
  constructor(link: Link, shared: SharedDocs) {
    super()
    this.#link = link
    this.#shared = shared
    link.on('status', (status) => this.emit('status', [status, this]))
    link.on('error', (err) => this.emit('error', [err, this]))
  }

  get status(): PeerStatus {
    return this.#link.status
  }

  /** The remote side's peer id (from its hello), or a description of the transport. */
  get remoteId(): string {
    return this.#link.remote.remoteId
  }

  get remoteRole(): PeerRole {
    return this.#link.remote.role
  }

  /** The last close code and reason, if the connection ever closed. */
  get lastClose(): { code: number; reason: string } | undefined {
    return this.#link.lastClose
  }

  /** Who the remote is, as its authentication decided (Access.context). */
  get context(): PeerContext | undefined {
    return this.#link.remote.access.context
  }

  /** The remote is a relay this replica syncs to and saves to. */
  get upstream(): boolean {
    return this.#link.config.upstream
  }

  /** The documents shared on this connection now, and whether each has synced. */
  sharedDocs(): Array<{ doc: string; synced: boolean }> {
    return this.#shared.sharedOver(this.#link)
  }

  /**
   * Dials now when waiting between reconnect attempts, and starts the backoff over. For
   * when the app knows the network is back; a browser's 'online' event does it on its own.
   */
  reconnect(): void {
    this.#link.reconnect()
  }

  /**
   * Sends a fresh token on an open converge.v1 connection (a new hello), e.g. before the
   * current one expires: a relay closes a connection whose token expired (4401) unless a
   * refreshed one arrives within its grace. Without `token`, the `token` option is asked again.
   */
  refreshToken(token?: string): void {
    this.#link.refreshToken(token)
  }

  /** Closes the connection for good (no reconnect). */
  close(code: number = CloseCode.normal, reason = ''): void {
    this.#link.close(code, reason)
  }
}
