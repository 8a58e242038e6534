import type { Store } from '@converge/core'
import type { Logger } from 'pino'

/**
 * Options of `Relay.start`. Each one's default, environment variable, flag and meaning are
 * in the option spec (`RELAY_OPTION_SPEC` in option-spec.ts), which also renders the table
 * in the relay's README.
 */
export interface RelayOptions {
  /** Interface to listen on. */
  host?: string
  /** Port for HTTP and WebSocket; 0 picks a free one. */
  port?: number
  /** LevelDB directory. Ignored when `store` is given. */
  data?: string
  /** A store to use instead of LevelDB under `data` (tests, custom backends). */
  store?: Store
  /** fsync every LevelDB batch before acknowledging its updates. */
  fsync?: boolean
  /** Relays to peer with (ws:// or wss:// URLs, e.g. ws://relay-b:1234). */
  peers?: string[]
  /** Token this relay presents to the relays it dials. */
  peerToken?: string
  /**
   * HS256 secret of client tokens (see `converge token`). When set, every connection needs
   * a valid token: y-websocket clients as `?token=`, converge.v1 peers in their hello, and
   * a relay joining the mesh a token with the `relay` claim. When not, anyone may read and
   * write every document.
   */
  authSecret?: string
  /** TLS certificate and key (PEM file paths): serve https and wss. */
  tlsCert?: string
  tlsKey?: string
  /** Directory served at / (the demo app). */
  static?: string
  /** Bearer token of the admin API under /api; without it the API is off. */
  adminToken?: string
  /** Drop a document from memory this long after its last client left, in ms. */
  unloadDelay?: number
  /** Largest WebSocket frame accepted, in bytes. */
  maxMessageBytes?: number
  /** Most bytes of updates with missing dependencies one document may hold (4513 beyond). */
  maxPendingBytes?: number
  /** Pacing: sustained messages per second of a client connection, beyond the burst it is paused (not closed); 0: off. */
  maxMessagesPerSecond?: number
  /** Burst allowance of the pacing, in messages; a sender this far beyond it while paused is closed (4529). */
  messageBurst?: number
  /** Received work in flight per connection, in bytes, past which it is paused (flow control). */
  maxInFlightBytes?: number
  /** Received messages in flight per connection, past which it is paused. */
  maxInFlightMessages?: number
  /** Received work in flight per document, all connections together, in bytes. */
  maxDocInFlightBytes?: number
  /** Received messages in flight per document, all connections together. */
  maxDocInFlightMessages?: number
  /** Hard ceiling, × the connection budgets, past which a client connection is closed (1013). */
  inFlightCeiling?: number
  /** Queue on a socket past which a slow reader gets one diff per document on drain instead of every update, in bytes. */
  slowReaderBytes?: number
  /** Queue on a socket past which it is closed (1013), in bytes. */
  maxBufferedBytes?: number
  /** Largest sync answer sent in one message; a larger diff goes in parts, in bytes. */
  maxSyncChunkBytes?: number
  /** Largest first frame (the hello) before a converge.v1 peer is authenticated, in bytes (1009 beyond). */
  maxPreAuthBytes?: number
  /**
   * The peer option `connectTimeout`, in ms: an accepted converge.v1 peer that sent no hello
   * within this long is closed (4508); a mesh dial gives up and retries after it.
   */
  handshakeTimeout?: number
  /** Most documents one client connection may have open; beyond, a document is refused alone. */
  maxDocsPerConnection?: number
  /** Most messages held per document while it loads, per connection (4513 beyond). */
  maxBacklog?: number
  /** WebSocket ping interval for accepted sockets, in ms. */
  pingInterval?: number
  /** converge.v1 heartbeat interval (ping frames), in ms. */
  heartbeatInterval?: number
  /** Close a converge.v1 peer silent for this long, in ms. */
  heartbeatTimeout?: number
  /** This relay's peer id. Default: random. */
  peerId?: string
  /** A pino logger, or false for none. Default: pino at level 'info' on stdout. */
  logger?: Logger | false
}
