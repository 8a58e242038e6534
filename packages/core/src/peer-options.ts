/** The options of one peer connection, and their defaults, defined once. */
import type { Access } from './access.js'
import type { BackoffOptions } from './backoff.js'
import { DEFAULT_FLOW_OPTIONS, type FlowOptions } from './flow-control.js'
import type { Framing } from './framing.js'
import { DEFAULT_MESSAGE_LIMITS } from './message-limits.js'
import type { HelloMessage } from './messages.js'

/** The flow-control budgets (FlowOptions, flow-control.ts) are peer options too. */
export interface PeerOptions extends FlowOptions {
  /** converge.v1 (default) or the y-websocket framing for one named document. */
  framing?: Framing
  /** A token sent in hello (converge.v1), or a function that returns one per connection. */
  token?: string | (() => string | Promise<string>)
  /**
   * The remote side is a relay this replica syncs to and saves to (the default when
   * dialing). Tabs on a BroadcastChannel are not.
   */
  upstream?: boolean
  /** Exchange hello first (default true for converge.v1; a BroadcastChannel has no handshake). */
  handshake?: boolean
  /** Interval between pings, in ms. Default 10_000; 0 turns heartbeats off. */
  heartbeatInterval?: number
  /** Close the connection when nothing arrived for this long, in ms. Default 30_000. */
  heartbeatTimeout?: number
  /**
   * Give up a connection attempt or handshake after this long, in ms: a dialer closes and
   * retries, an accepted peer that sent no hello by then is closed with 4508. Default 10_000.
   */
  connectTimeout?: number
  /** Largest accepted frame, in bytes. Default 16 MiB (a whole document may travel in one step 2). */
  maxMessageBytes?: number
  /** Largest first frame (the hello) before the peer is authenticated, in bytes. Default 64 KiB. */
  maxPreAuthBytes?: number
  /**
   * Most documents one client connection may have open at once. Default 1_000. A document
   * beyond it is refused alone with an error message (CONVERGE_LIMIT_EXCEEDED); mesh links
   * are exempt.
   */
  maxDocsPerConnection?: number
  /**
   * Most messages held per document while it loads (4513 beyond). They count as in flight
   * (see FlowOptions), so a paused sender stays far below it. Default 20_000.
   */
  maxBacklog?: number
  /** Reconnect delays, when dialing through a Connector. */
  backoff?: BackoffOptions
  /** Most entries in a state vector a peer sends (4513 beyond). Default 100_000. See message-limits.ts. */
  maxStateVectorEntries?: number
  /** Most units of work (state vector entries, delete digest chunks, awareness states) one message may ask for (4513 beyond). Default 1_000_000. */
  maxMessageWork?: number
  /** Largest awareness state a peer may send, in bytes of JSON (4513 beyond). Default 64 KiB. */
  maxAwarenessStateBytes?: number
  /** Most presence ids one client connection may speak for per document (4513 beyond; mesh links exempt). Default 8. */
  maxAwarenessStatesPerSession?: number
  /** Longest text a peer chose (its peer id, an error frame's code and message) kept for logs and events. Default 200. */
  maxPeerTextLength?: number
  /** Error frames from the remote reported (as 'error' events, hence logs) per minute at most; the rest are dropped. Default 10. */
  remoteErrorsPerMinute?: number
  /** Bytes of updates one accepted client connection may write over its life (4513 beyond; mesh links exempt). Default 128 MiB. */
  maxUpdateBytesPerConnection?: number
}

/** Options when accepting a connection (server side). */
export interface AcceptOptions extends Omit<PeerOptions, 'token' | 'upstream'> {
  /** Decides what a peer may do from its hello (converge.v1). Throw a coded error to refuse. */
  authorize?: (hello: HelloMessage) => Access | Promise<Access>
  /** The access of a peer that sends no hello (y-websocket framing), decided at upgrade. */
  access?: Access
}

export const DEFAULT_PEER_OPTIONS = {
  heartbeatInterval: 10_000,
  heartbeatTimeout: 30_000,
  connectTimeout: 10_000,
  maxMessageBytes: 16 * 1024 * 1024,
  maxPreAuthBytes: 64 * 1024,
  maxDocsPerConnection: 1_000,
  maxBacklog: 20_000,
  antiEntropyConcurrency: 16,
  ...DEFAULT_FLOW_OPTIONS,
  ...DEFAULT_MESSAGE_LIMITS,
  maxAwarenessStatesPerSession: 8,
  maxPeerTextLength: 200,
  remoteErrorsPerMinute: 10,
  maxUpdateBytesPerConnection: 128 * 1024 * 1024,
}
