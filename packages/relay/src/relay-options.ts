import type { Store } from '@converge/core'
import type { Logger } from 'pino'
import type { ChangeFeedOptions } from './change-feed.js'
import type { NatsClusterOptions } from './cluster/nats-options.js'
import type { SettleOptions } from './document-settled.js'
import type { Extension } from './extensions.js'
import type { WebhookQueueOptions } from './webhook-queue.js'
import type { WebhookTarget } from './webhooks.js'

/**
 * Options of `Relay.start`. Each one's default, environment variable, flag and meaning are
 * in the option spec (`RELAY_OPTION_SPEC` in option-spec.ts), which also renders the table
 * in the relay's README.
 */
export interface RelayOptions extends SettleOptions, ChangeFeedOptions, WebhookQueueOptions {
  /** Extensions: objects of hooks run in order (see extensions.ts and the README). Not in the CLI. */
  extensions?: Extension[]
  /**
   * Keep a change feed: every durable update gets a sequence number, stored with it, served
   * at GET /api/changes and by `relay.changes()`. LevelDB stores; a custom `store` has one
   * if it implements `changes`.
   */
  changeFeed?: boolean
  /** Keep-alive interval of an idle change stream, in ms. */
  changeKeepAlive?: number
  /**
   * Webhooks: targets, or `--webhook` specs (`URL[;events=..][;docs=GLOB][;include=json+delta]`).
   * Deliveries persist in the relay's LevelDB (in memory on a custom store).
   */
  webhooks?: Array<string | WebhookTarget>
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
  /**
   * Without fsync: acknowledge a batch once it is in the data directory's journal file,
   * before its LevelDB write (@converge/level's journal.ts). Default true.
   */
  journal?: boolean
  /** Relays to peer with (ws:// or wss:// URLs, e.g. ws://relay-b:1234). */
  peers?: string[]
  /** Token this relay presents to the relays it dials. */
  peerToken?: string
  /**
   * A file holding that token, read on every dial and sent again on open links when it
   * changes (the token rotates without a restart). Takes precedence over `peerToken`.
   */
  peerTokenFile?: string
  /** Serve /metrics on this separate address (`host:port`) only, not on the main port. */
  metricsListen?: string
  /**
   * Addresses of reverse proxies whose X-Forwarded-For header is believed: a connection
   * from one counts against the per-address caps, and is logged, as the header's last hop
   * that is not itself a trusted proxy. Default none: the header is ignored.
   */
  trustProxy?: string[]
  /**
   * HS256 secret of client tokens (see `converge token`). When set, every connection needs
   * a valid token: y-websocket clients as `?token=`, converge.v1 peers in their hello, and
   * a relay joining the mesh a token with the `relay` claim. When not, anyone may read and
   * write every document. At least 32 bytes; it verifies tokens without a `kid` header.
   */
  authSecret?: string
  /** More HS256 secrets by key id (the token's `kid` header), for key rotation; each at least 32 bytes. */
  authKeys?: Record<string, string>
  /** Longest lifetime (exp - now) of an accepted token, in seconds. Tokens must carry `exp`. */
  maxTokenTtl?: number
  /**
   * After a converge.v1 connection's token expired, how long it may still send a refreshed
   * token in a new hello before it is closed with 4401, in ms.
   */
  tokenRefreshGrace?: number
  /**
   * The revocation list's file (JSON, 0600). Default: `revocations.json` in the data
   * directory; with a custom `store`, none (the list lives in memory).
   */
  revocationsFile?: string
  /**
   * Origins whose pages may open WebSockets to this relay ('*': any). Default: any when the
   * relay requires tokens; else its own origin, plus any loopback origin while it listens on
   * loopback. Clients that send no Origin (Node, native apps) are not affected.
   */
  allowedOrigins?: string[]
  /**
   * Host names browsers may reach the relay by (DNS rebinding). Default: any when the relay
   * requires tokens; else loopback names on loopback, and the machine's own names and
   * addresses beyond it.
   */
  allowedHosts?: string[]
  /**
   * Admit peers that declare the relay role in their hello without a token granting it
   * (a mesh on a trusted network, without authSecret). Otherwise refused with 4403.
   */
  allowUnauthenticatedRelays?: boolean
  /** Close a y-websocket socket that sent nothing this long after opening, in ms (4508). */
  firstMessageTimeout?: number
  /** Most concurrent TCP connections from one address; 0: no cap. */
  maxConnectionsPerIp?: number
  /** Most connections from one address still in their HTTP or WebSocket handshake; 0: no cap. */
  maxHandshakesPerIp?: number
  /** Addresses exempt from the per-address caps (default loopback: a local reverse proxy, tests). */
  perIpExempt?: string[]
  /** Time allowed to receive a request's headers, in ms (408 beyond). */
  headersTimeout?: number
  /** Time allowed to receive a whole HTTP request, in ms. */
  requestTimeout?: number
  /** Bearer token required by GET /metrics; without it metrics are public (counts only). */
  metricsToken?: string
  /** Largest admin API request body, in bytes (413 beyond). */
  maxAdminBodyBytes?: number
  /** TLS certificate and key (PEM file paths): serve https and wss. */
  tlsCert?: string
  tlsKey?: string
  /** Directory served at / (the demo app). */
  static?: string
  /** Bearer token of the admin API under /api; without it the API is off. */
  adminToken?: string
  /** Drop a document from memory this long after its last client left, in ms. */
  unloadDelay?: number
  /**
   * Serve documents from their encoded state, building a Y.Doc only when one is needed
   * (ReplicaOptions.coldDocs). Off in a NATS cluster (its presence bridge needs the loaded
   * document). Default true.
   */
  coldDocs?: boolean
  /** Merge a document's presence changes and send them at most this often, in ms (joins and leaves without waiting); 0: each at once. */
  awarenessCoalesceMs?: number
  /** Stretch a busy document's presence window so that it sends at most this many merged frames a second over all its sessions; 0: never. */
  awarenessFramesPerSecond?: number
  /** The longest a stretched presence window gets, in ms. */
  awarenessCoalesceMaxMs?: number
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
  /** Most entries in a state vector a peer sends (4513 beyond). */
  maxStateVectorEntries?: number
  /** Most units of work (state vector entries, delete digest chunks, awareness states) one message may ask for (4513 beyond). */
  maxMessageWork?: number
  /** Largest awareness state a peer may send, in bytes (4513 beyond). */
  maxAwarenessStateBytes?: number
  /** Most presence ids one client connection may speak for per document (4513 beyond). */
  maxAwarenessStatesPerSession?: number
  /** Bytes of updates one client connection may write over its life (4513 beyond). */
  maxUpdateBytesPerConnection?: number
  /** Bytes of updates all client connections of one token (its jti, else sub) may write while it lives (4513 beyond). */
  maxUpdateBytesPerToken?: number
  /** Longest text a peer chose (its id, an error frame) kept for logs. */
  maxPeerTextLength?: number
  /** Error frames from one client connection logged per minute at most. */
  remoteErrorsPerMinute?: number
  /** Deepest nesting of shared types an update may create (4513 beyond). */
  maxNestingDepth?: number
  /** Largest document, in bytes of its stored state (4513 beyond). */
  maxDocBytes?: number
  /** Bytes of durable updates applied in one transaction and passed on as one merged update (see ReplicaOptions). */
  maxMergedUpdateBytes?: number
  /** WebSocket ping interval for accepted sockets, in ms. */
  pingInterval?: number
  /** converge.v1 heartbeat interval (ping frames), in ms. */
  heartbeatInterval?: number
  /** Close a converge.v1 peer silent for this long, in ms. */
  heartbeatTimeout?: number
  /** This relay's peer id. Default: random. */
  peerId?: string
  /**
   * Join the cluster of relays on these NATS JetStream servers (see the README, "Cluster on
   * NATS JetStream"). Default: none (a standalone relay, or a mesh with `peers`).
   */
  nats?: NatsClusterOptions
  /** A pino logger, or false for none. Default: pino at level 'info' on stdout. */
  logger?: Logger | false
}
