/**
 * What the relay's authentication said about a connection (its extensions' onAuthenticate,
 * or a token). Core only carries it: to the change log (`user`) and to relay hooks.
 */
export interface PeerContext {
  /** The user the connection acts for, recorded with its updates. */
  readonly user?: string
  readonly [key: string]: unknown
}

/** What a connected peer may do, decided when it is accepted (from its token). */
export interface Access {
  /** May subscribe to the document and receive its content. */
  canRead(doc: string): boolean
  /** May change the document. A peer that may not never changes it: its updates are dropped. */
  canWrite(doc: string): boolean
  /** Who the peer is, as its authentication decided; absent for anonymous peers. */
  readonly context?: PeerContext
  /**
   * May publish presence (awareness) on a document it may read. Default (absent): yes,
   * read-only peers included: presence is not document content.
   */
  canPublishPresence?(doc: string): boolean
  /**
   * Charges `bytes` of updates this client connection writes to a quota it shares with
   * other connections (a relay's per-token quota); throws CONVERGE_LIMIT_EXCEEDED past it,
   * which closes the connection (4513). Absent: no shared quota.
   */
  chargeUpdate?(bytes: number): void
}

export const fullAccess: Access = { canRead: () => true, canWrite: () => true }
export const readOnlyAccess: Access = { canRead: () => true, canWrite: () => false }
