import {
  type AcceptOptions,
  DEFAULT_FLOW_OPTIONS,
  DEFAULT_PEER_OPTIONS,
  DEFAULT_REPLICA_OPTIONS,
  type PeerOptions,
} from '@converge/core'
import { DEFAULT_SERVER_OPTIONS } from '@converge/websocket'
import { MAX_ADMIN_BODY_BYTES } from './admin-api.js'
import { CHANGE_FEED_DEFAULTS } from './change-feed.js'
import { DEFAULT_CHANGE_KEEP_ALIVE } from './changes-api.js'
import { NATS_OPTION_SPEC, type NatsConfig } from './cluster/nats-option-spec.js'
import { LOOPBACK_ADDRESSES } from './connection-caps.js'
import { SETTLE_DEFAULTS } from './document-settled.js'
import { bool, keyPairs, list, nonNegativeInt, oneOf, peerUrls, port, seconds, text } from './option-parsers.js'
import type { RelayOptions } from './relay-options.js'
import { DEFAULT_MAX_TOKEN_TTL } from './tokens.js'
import { WEBHOOK_DEFAULTS } from './webhook-queue.js'
import { webhookSpecs } from './webhooks.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const

/** What `converge relay` is configured with: the relay's options plus how it logs. */
export type RelayConfig = Omit<RelayOptions, 'store' | 'logger' | 'extensions' | 'nats'> &
  NatsConfig & {
    logLevel?: (typeof LOG_LEVELS)[number]
    logFormat?: (typeof LOG_FORMATS)[number]
  }
export type ConfigKey = keyof RelayConfig

/** A peer option a relay option feeds, and whether dialed mesh links get it too (accepted links always do). */
interface PeerTarget {
  option: keyof PeerOptions & keyof AcceptOptions
  dial: boolean
}

/** One relay option, defined once: the CLI, the env, the config file, the defaults and the README derive from it. */
export interface OptionSpec<K extends ConfigKey = ConfigKey> {
  /** Its name in RelayOptions and in converge.config.json. */
  key: K
  /** The CLI flag, as commander spells it (`--port <port>`; no argument: a boolean). */
  flag: string
  env: string
  /** Undefined: none (the relay does without, or the default reads as `defaultText`). */
  default?: RelayConfig[K]
  /** How the default reads when it is not a value ('random', 'none (open)'). */
  defaultText?: string
  unit?: 'ms' | 'bytes'
  /** Parses one value from a flag, the env or the config file; throws OptionValueError. */
  parse: (raw: string) => NonNullable<RelayConfig[K]>
  /** One line for --help and the README. */
  doc: string
  /** Redacted in --print-config. */
  secret?: boolean
  /** The flag may be given more than once (values add up); env and file take a comma-separated list or an array. */
  repeatable?: boolean
  /** The peer option it feeds, for accepted links and (if `dial`) the mesh links this relay dials. */
  peer?: PeerTarget
}

const option = <K extends ConfigKey>(spec: OptionSpec<K>): OptionSpec => spec as unknown as OptionSpec
const peer = DEFAULT_PEER_OPTIONS

/**
 * Every option of `converge relay` / `Relay.start`, in the order of --help and the README.
 * Peer-level defaults are core's DEFAULT_PEER_OPTIONS, replica-level ones DEFAULT_REPLICA_OPTIONS,
 * server-level ones websocket's DEFAULT_SERVER_OPTIONS: referenced here, never repeated.
 */
export const RELAY_OPTION_SPEC: readonly OptionSpec[] = [
  option({
    key: 'host',
    flag: '--host <host>',
    env: 'HOST',
    default: 'localhost',
    parse: text,
    doc: 'interface to listen on',
  }),
  option({
    key: 'port',
    flag: '--port <port>',
    env: 'PORT',
    default: 1234,
    parse: port,
    doc: 'one port for HTTP and WebSocket (0 picks a free one)',
  }),
  option({
    key: 'data',
    flag: '--data <dir>',
    env: 'CONVERGE_DATA',
    default: './data',
    parse: text,
    doc: 'LevelDB directory',
  }),
  option({
    key: 'peers',
    flag: '--peer <url>',
    env: 'CONVERGE_PEERS',
    defaultText: 'none',
    parse: peerUrls,
    repeatable: true,
    doc: 'a relay to peer with, ws:// or wss:// (e.g. ws://relay-b:1234); checked at startup',
  }),
  option({
    key: 'peerToken',
    flag: '--peer-token <token>',
    env: 'CONVERGE_PEER_TOKEN',
    parse: text,
    secret: true,
    doc: 'token presented to the relays this one dials',
  }),
  option({
    key: 'authSecret',
    flag: '--auth-secret <secret>',
    env: 'CONVERGE_AUTH_SECRET',
    defaultText: 'none (open)',
    parse: text,
    secret: true,
    doc: 'require tokens signed with this HS256 secret, at least 32 bytes (see `converge token`)',
  }),
  option({
    key: 'authKeys',
    flag: '--auth-key <kid=secret>',
    env: 'CONVERGE_AUTH_KEYS',
    defaultText: 'none',
    parse: keyPairs,
    secret: true,
    repeatable: true,
    doc: "more secrets, chosen by a token's kid header (key rotation); each at least 32 bytes",
  }),
  option({
    key: 'maxTokenTtl',
    flag: '--max-token-ttl <duration>',
    env: 'CONVERGE_MAX_TOKEN_TTL',
    default: DEFAULT_MAX_TOKEN_TTL,
    defaultText: '30d',
    parse: seconds,
    doc: 'refuse tokens whose exp is further away (seconds, or 30m, 12h, 30d); exp is required',
  }),
  option({
    key: 'tokenRefreshGrace',
    flag: '--token-refresh-grace <ms>',
    env: 'CONVERGE_TOKEN_REFRESH_GRACE',
    default: 5_000,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: "after a converge.v1 connection's token expired, wait this long for a refreshed hello, then close it (4401)",
  }),
  option({
    key: 'revocationsFile',
    flag: '--revocations-file <file>',
    env: 'CONVERGE_REVOCATIONS_FILE',
    defaultText: '<data>/revocations.json',
    parse: text,
    doc: 'where the token revocation list (edited under /api/revocations) is kept',
  }),
  option({
    key: 'allowedOrigins',
    flag: '--allowed-origins <list>',
    env: 'CONVERGE_ALLOWED_ORIGINS',
    defaultText: 'with auth: any; without: own + loopback origins',
    parse: list,
    repeatable: true,
    doc: "origins whose pages may open WebSockets ('*': any); others get 403 (cross-site WebSocket hijacking)",
  }),
  option({
    key: 'allowedHosts',
    flag: '--allowed-hosts <list>',
    env: 'CONVERGE_ALLOWED_HOSTS',
    defaultText: 'with auth: any; without: loopback or own names',
    parse: list,
    repeatable: true,
    doc: "Host names browsers may reach the relay by ('*': any); others get 403 (DNS rebinding)",
  }),
  option({
    key: 'allowUnauthenticatedRelays',
    flag: '--allow-unauthenticated-relays',
    env: 'CONVERGE_ALLOW_UNAUTHENTICATED_RELAYS',
    default: false,
    parse: bool,
    doc: 'without --auth-secret, admit peers that claim the relay role (a mesh on a trusted network); off: 4403',
  }),
  option({
    key: 'metricsToken',
    flag: '--metrics-token <token>',
    env: 'CONVERGE_METRICS_TOKEN',
    defaultText: 'none (public)',
    parse: text,
    secret: true,
    doc: 'require this bearer token on /metrics',
  }),
  option({
    key: 'fsync',
    flag: '--fsync',
    env: 'CONVERGE_FSYNC',
    default: false,
    parse: bool,
    doc: 'fsync every write batch before acknowledging it (slower, survives power loss)',
  }),
  option({
    key: 'tlsCert',
    flag: '--tls-cert <file>',
    env: 'CONVERGE_TLS_CERT',
    parse: text,
    doc: 'TLS certificate (PEM): serve https and wss (with --tls-key)',
  }),
  option({
    key: 'tlsKey',
    flag: '--tls-key <file>',
    env: 'CONVERGE_TLS_KEY',
    parse: text,
    doc: 'TLS private key (PEM)',
  }),
  option({
    key: 'static',
    flag: '--static <dir>',
    env: 'CONVERGE_STATIC',
    parse: text,
    doc: 'serve the files of this directory at / (the demo app)',
  }),
  option({
    key: 'adminToken',
    flag: '--admin-token <token>',
    env: 'CONVERGE_ADMIN_TOKEN',
    defaultText: 'none (API off)',
    parse: text,
    secret: true,
    doc: 'enable the admin API under /api with this bearer token',
  }),
  option({
    key: 'unloadDelay',
    flag: '--unload-delay <ms>',
    env: 'CONVERGE_UNLOAD_DELAY',
    default: DEFAULT_REPLICA_OPTIONS.unloadDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'drop a document from memory this long after its last client left',
  }),
  option({
    key: 'maxMessageBytes',
    flag: '--max-message-bytes <n>',
    env: 'CONVERGE_MAX_MESSAGE_BYTES',
    default: peer.maxMessageBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    peer: { option: 'maxMessageBytes', dial: true },
    doc: 'largest WebSocket frame accepted (1009 beyond)',
  }),
  option({
    key: 'maxPreAuthBytes',
    flag: '--max-pre-auth-bytes <n>',
    env: 'CONVERGE_MAX_PRE_AUTH_BYTES',
    default: peer.maxPreAuthBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    peer: { option: 'maxPreAuthBytes', dial: true },
    doc: 'largest first frame (the hello) before a converge.v1 peer is authenticated (1009 beyond)',
  }),
  option({
    key: 'handshakeTimeout',
    flag: '--handshake-timeout <ms>',
    env: 'CONVERGE_HANDSHAKE_TIMEOUT',
    default: peer.connectTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    peer: { option: 'connectTimeout', dial: true },
    doc: 'peer option connectTimeout: close an accepted converge.v1 peer that sent no hello within this long (4508); a mesh dial gives up and retries after it',
  }),
  option({
    key: 'firstMessageTimeout',
    flag: '--first-message-timeout <ms>',
    env: 'CONVERGE_FIRST_MESSAGE_TIMEOUT',
    default: DEFAULT_SERVER_OPTIONS.firstMessageTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'close a y-websocket socket that sent nothing this long after opening (4508)',
  }),
  option({
    key: 'maxConnectionsPerIp',
    flag: '--max-connections-per-ip <n>',
    env: 'CONVERGE_MAX_CONNECTIONS_PER_IP',
    default: 256,
    parse: nonNegativeInt,
    doc: 'concurrent TCP connections from one address, dropped beyond (0: no cap)',
  }),
  option({
    key: 'maxHandshakesPerIp',
    flag: '--max-handshakes-per-ip <n>',
    env: 'CONVERGE_MAX_HANDSHAKES_PER_IP',
    default: 32,
    parse: nonNegativeInt,
    doc: 'connections from one address still sending headers or not yet authenticated, dropped beyond (slowloris; 0: no cap)',
  }),
  option({
    key: 'perIpExempt',
    flag: '--per-ip-exempt <list>',
    env: 'CONVERGE_PER_IP_EXEMPT',
    default: LOOPBACK_ADDRESSES,
    defaultText: 'loopback',
    parse: list,
    repeatable: true,
    doc: 'addresses exempt from the per-address caps (a reverse proxy)',
  }),
  option({
    key: 'headersTimeout',
    flag: '--headers-timeout <ms>',
    env: 'CONVERGE_HEADERS_TIMEOUT',
    default: 10_000,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: "time to receive a request's headers (408 beyond)",
  }),
  option({
    key: 'requestTimeout',
    flag: '--request-timeout <ms>',
    env: 'CONVERGE_REQUEST_TIMEOUT',
    default: 120_000,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'time to receive a whole HTTP request',
  }),
  option({
    key: 'maxAdminBodyBytes',
    flag: '--max-admin-body-bytes <n>',
    env: 'CONVERGE_MAX_ADMIN_BODY_BYTES',
    default: MAX_ADMIN_BODY_BYTES,
    unit: 'bytes',
    parse: nonNegativeInt,
    doc: 'largest admin API request body (413 beyond)',
  }),
  option({
    key: 'maxDocsPerConnection',
    flag: '--max-docs-per-connection <n>',
    env: 'CONVERGE_MAX_DOCS_PER_CONNECTION',
    default: peer.maxDocsPerConnection,
    parse: nonNegativeInt,
    peer: { option: 'maxDocsPerConnection', dial: false },
    doc: 'documents one client connection may have open; beyond, a document is refused alone with an error message and the others keep syncing (mesh links exempt)',
  }),
  option({
    key: 'maxBacklog',
    flag: '--max-backlog <n>',
    env: 'CONVERGE_MAX_BACKLOG',
    default: peer.maxBacklog,
    parse: nonNegativeInt,
    peer: { option: 'maxBacklog', dial: true },
    doc: 'messages held per document and connection while the document loads; they count as in flight (4513 beyond)',
  }),
  option({
    key: 'maxPendingBytes',
    flag: '--max-pending-bytes <n>',
    env: 'CONVERGE_MAX_PENDING_BYTES',
    default: DEFAULT_REPLICA_OPTIONS.maxPendingBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    doc: 'bytes of updates with missing dependencies one document may hold, from clients (4513 beyond)',
  }),
  option({
    key: 'maxMessagesPerSecond',
    flag: '--max-messages-per-second <n>',
    env: 'CONVERGE_MAX_MESSAGES_PER_SECOND',
    default: peer.maxMessagesPerSecond,
    parse: nonNegativeInt,
    peer: { option: 'maxMessagesPerSecond', dial: false },
    doc: 'pacing: sustained messages per second per client connection; past the burst it is paused, not closed (0: off; mesh links exempt)',
  }),
  option({
    key: 'messageBurst',
    flag: '--message-burst <n>',
    env: 'CONVERGE_MESSAGE_BURST',
    default: peer.messageBurst,
    parse: nonNegativeInt,
    peer: { option: 'messageBurst', dial: false },
    doc: 'burst allowance of the pacing; a sender this far beyond it while paused is closed (4529)',
  }),
  ...flowOptionSpecs(),
  option({
    key: 'maxStateVectorEntries',
    flag: '--max-state-vector-entries <n>',
    env: 'CONVERGE_MAX_STATE_VECTOR_ENTRIES',
    default: peer.maxStateVectorEntries,
    parse: nonNegativeInt,
    peer: { option: 'maxStateVectorEntries', dial: true },
    doc: 'entries in a state vector a peer sends (4513 beyond, before it is decoded)',
  }),
  option({
    key: 'maxMessageWork',
    flag: '--max-message-work <n>',
    env: 'CONVERGE_MAX_MESSAGE_WORK',
    default: peer.maxMessageWork,
    parse: nonNegativeInt,
    peer: { option: 'maxMessageWork', dial: true },
    doc: 'units of work one message may ask for: state vector entries, delete digest chunks, awareness states (4513 beyond)',
  }),
  option({
    key: 'maxAwarenessStateBytes',
    flag: '--max-awareness-state-bytes <n>',
    env: 'CONVERGE_MAX_AWARENESS_STATE_BYTES',
    default: peer.maxAwarenessStateBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    peer: { option: 'maxAwarenessStateBytes', dial: true },
    doc: 'largest awareness state a peer may send (4513 beyond)',
  }),
  option({
    key: 'maxAwarenessStatesPerSession',
    flag: '--max-awareness-states-per-session <n>',
    env: 'CONVERGE_MAX_AWARENESS_STATES_PER_SESSION',
    default: peer.maxAwarenessStatesPerSession,
    parse: nonNegativeInt,
    peer: { option: 'maxAwarenessStatesPerSession', dial: false },
    doc: 'presence ids one client connection may speak for per document (4513 beyond; mesh links exempt)',
  }),
  option({
    key: 'maxUpdateBytesPerConnection',
    flag: '--max-update-bytes-per-connection <n>',
    env: 'CONVERGE_MAX_UPDATE_BYTES_PER_CONNECTION',
    default: peer.maxUpdateBytesPerConnection,
    unit: 'bytes',
    parse: nonNegativeInt,
    peer: { option: 'maxUpdateBytesPerConnection', dial: false },
    doc: 'bytes of updates one client connection may write over its life (4513 beyond; mesh links exempt)',
  }),
  option({
    key: 'maxPeerTextLength',
    flag: '--max-peer-text-length <n>',
    env: 'CONVERGE_MAX_PEER_TEXT_LENGTH',
    default: peer.maxPeerTextLength,
    parse: nonNegativeInt,
    peer: { option: 'maxPeerTextLength', dial: true },
    doc: 'longest peer-chosen text (peer id, error frame text) kept for logs; the rest is cut',
  }),
  option({
    key: 'remoteErrorsPerMinute',
    flag: '--remote-errors-per-minute <n>',
    env: 'CONVERGE_REMOTE_ERRORS_PER_MINUTE',
    default: peer.remoteErrorsPerMinute,
    parse: nonNegativeInt,
    peer: { option: 'remoteErrorsPerMinute', dial: false },
    doc: 'error frames from one client connection logged per minute at most; the rest are dropped',
  }),
  option({
    key: 'maxNestingDepth',
    flag: '--max-nesting-depth <n>',
    env: 'CONVERGE_MAX_NESTING_DEPTH',
    default: DEFAULT_REPLICA_OPTIONS.maxNestingDepth,
    parse: nonNegativeInt,
    doc: 'deepest nesting of shared types an update may create (4513 beyond); stored documents nested deeper are repaired on load',
  }),
  option({
    key: 'maxDocBytes',
    flag: '--max-doc-bytes <n>',
    env: 'CONVERGE_MAX_DOC_BYTES',
    default: DEFAULT_REPLICA_OPTIONS.maxDocBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    doc: 'largest document, in bytes of its stored state (4513 beyond; mesh links exempt)',
  }),
  option({
    key: 'heartbeatInterval',
    flag: '--heartbeat-interval <ms>',
    env: 'CONVERGE_HEARTBEAT_INTERVAL',
    default: peer.heartbeatInterval,
    unit: 'ms',
    parse: nonNegativeInt,
    peer: { option: 'heartbeatInterval', dial: true },
    doc: 'converge.v1 ping interval (0: no pings)',
  }),
  option({
    key: 'heartbeatTimeout',
    flag: '--heartbeat-timeout <ms>',
    env: 'CONVERGE_HEARTBEAT_TIMEOUT',
    default: peer.heartbeatTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    peer: { option: 'heartbeatTimeout', dial: true },
    doc: 'close a converge.v1 peer silent this long (4508); a mesh link is then redialed',
  }),
  option({
    key: 'pingInterval',
    flag: '--ping-interval <ms>',
    env: 'CONVERGE_PING_INTERVAL',
    default: DEFAULT_SERVER_OPTIONS.pingInterval,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'WebSocket pings to accepted sockets; a socket that missed a pong is dropped at the next',
  }),
  option({
    key: 'peerId',
    flag: '--peer-id <id>',
    env: 'CONVERGE_PEER_ID',
    defaultText: 'random',
    parse: text,
    doc: "this relay's id in the mesh",
  }),
  ...NATS_OPTION_SPEC,
  option({
    key: 'changeFeed',
    flag: '--change-feed <on|off>',
    env: 'CONVERGE_CHANGE_FEED',
    default: true,
    parse: bool,
    doc: 'keep a change feed: a sequence number per durable update, at GET /api/changes',
  }),
  option({
    key: 'changeRetentionMs',
    flag: '--change-retention <ms>',
    env: 'CONVERGE_CHANGE_RETENTION',
    default: CHANGE_FEED_DEFAULTS.changeRetentionMs,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'keep change feed records this long (older cursors get 410)',
  }),
  option({
    key: 'changeRetentionBytes',
    flag: '--change-retention-bytes <n>',
    env: 'CONVERGE_CHANGE_RETENTION_BYTES',
    default: CHANGE_FEED_DEFAULTS.changeRetentionBytes,
    unit: 'bytes',
    parse: nonNegativeInt,
    doc: 'keep at most this many bytes of change feed records',
  }),
  option({
    key: 'changeTrimInterval',
    flag: '--change-trim-interval <ms>',
    env: 'CONVERGE_CHANGE_TRIM_INTERVAL',
    default: CHANGE_FEED_DEFAULTS.changeTrimInterval,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'how often the change feed retention runs',
  }),
  option({
    key: 'changeKeepAlive',
    flag: '--change-keep-alive <ms>',
    env: 'CONVERGE_CHANGE_KEEP_ALIVE',
    default: DEFAULT_CHANGE_KEEP_ALIVE,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'keep-alive interval of an idle change stream',
  }),
  option({
    key: 'settleDelay',
    flag: '--settle-delay <ms>',
    env: 'CONVERGE_SETTLE_DELAY',
    default: SETTLE_DEFAULTS.settleDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'a document is settled after this long without a change (onDocumentSettled, change-settled webhooks)',
  }),
  option({
    key: 'settleMaxWait',
    flag: '--settle-max-wait <ms>',
    env: 'CONVERGE_SETTLE_MAX_WAIT',
    default: SETTLE_DEFAULTS.settleMaxWait,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: '... or this long after its first unsettled change, however busy it is',
  }),
  option({
    key: 'webhooks',
    flag: '--webhook <spec>',
    env: 'CONVERGE_WEBHOOKS',
    defaultText: 'none',
    parse: webhookSpecs,
    repeatable: true,
    doc: 'POST document events to URL[;events=change-settled+document-created+document-deleted][;docs=GLOB][;include=json+delta]',
  }),
  option({
    key: 'webhookSecret',
    flag: '--webhook-secret <secret>',
    env: 'CONVERGE_WEBHOOK_SECRET',
    defaultText: 'none (unsigned)',
    parse: text,
    secret: true,
    doc: 'sign webhook deliveries: x-converge-signature, HMAC-SHA256 over timestamp.body',
  }),
  option({
    key: 'webhookMaxAttempts',
    flag: '--webhook-max-attempts <n>',
    env: 'CONVERGE_WEBHOOK_MAX_ATTEMPTS',
    default: WEBHOOK_DEFAULTS.webhookMaxAttempts,
    parse: nonNegativeInt,
    doc: 'attempts before a webhook delivery is dead-lettered (GET /api/webhooks/dead)',
  }),
  option({
    key: 'webhookRetryDelay',
    flag: '--webhook-retry-delay <ms>',
    env: 'CONVERGE_WEBHOOK_RETRY_DELAY',
    default: WEBHOOK_DEFAULTS.webhookRetryDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'first webhook retry delay, doubled per attempt with jitter',
  }),
  option({
    key: 'webhookMaxRetryDelay',
    flag: '--webhook-max-retry-delay <ms>',
    env: 'CONVERGE_WEBHOOK_MAX_RETRY_DELAY',
    default: WEBHOOK_DEFAULTS.webhookMaxRetryDelay,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'longest delay between two webhook attempts',
  }),
  option({
    key: 'webhookTimeout',
    flag: '--webhook-timeout <ms>',
    env: 'CONVERGE_WEBHOOK_TIMEOUT',
    default: WEBHOOK_DEFAULTS.webhookTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'a webhook attempt without a response after this long fails',
  }),
  option({
    key: 'webhookConcurrency',
    flag: '--webhook-concurrency <n>',
    env: 'CONVERGE_WEBHOOK_CONCURRENCY',
    default: WEBHOOK_DEFAULTS.webhookConcurrency,
    parse: nonNegativeInt,
    doc: 'webhook deliveries in flight at once',
  }),
  option({
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'CONVERGE_LOG_LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    doc: `log level: ${LOG_LEVELS.join(', ')} (connects and disconnects are debug)`,
  }),
  option({
    key: 'logFormat',
    flag: '--log-format <format>',
    env: 'CONVERGE_LOG_FORMAT',
    default: 'auto',
    parse: oneOf(LOG_FORMATS),
    doc: 'pretty (for people), json (one pino JSON line per event), or auto: pretty when stdout is a terminal',
  }),
]

/** The spec of `key`. */
export const optionSpecOf = (key: ConfigKey): OptionSpec => {
  const spec = RELAY_OPTION_SPEC.find((s) => s.key === key)
  if (spec === undefined) throw new Error(`no relay option ${key}`)
  return spec
}

/** The defaults of every option that has one. */
export const RELAY_DEFAULTS: RelayConfig = Object.fromEntries(
  RELAY_OPTION_SPEC.filter((s) => s.default !== undefined).map((s) => [s.key, s.default]),
) as RelayConfig

/**
 * The peer options a relay gives the links it accepts (`'accept'`) or dials (`'dial'`),
 * from its resolved options. Limits that only guard against clients (documents per
 * connection, the message rate) are not given to dialed mesh links, which are exempt.
 */
export const peerOptionsOf = (options: RelayConfig, link: 'accept' | 'dial'): Partial<AcceptOptions> => {
  const out: Record<string, unknown> = {}
  for (const spec of RELAY_OPTION_SPEC) {
    if (spec.peer === undefined || (link === 'dial' && !spec.peer.dial)) continue
    const value = options[spec.key]
    if (value !== undefined) out[spec.peer.option] = value
  }
  return out as Partial<AcceptOptions>
}

const formatBytes = (n: number): string => {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`
  return `${n} B`
}

/** The default as people read it: `16 MiB`, `10000 ms`, `off`, `none`. */
export const formatDefault = (spec: OptionSpec): string => {
  if (spec.defaultText !== undefined) return spec.defaultText
  const value = spec.default
  if (value === undefined) return 'none'
  if (value === false) return 'off'
  if (typeof value === 'number' && spec.unit === 'bytes') return formatBytes(value)
  if (typeof value === 'number' && spec.unit === 'ms') return `${value} ms`
  return String(value)
}

/** The flow-control budgets (core's FlowOptions, see PROTOCOL.md "Flow control"), for accepted and dialed links. */
function flowOptionSpecs(): OptionSpec[] {
  const flow = (
    key: ConfigKey & keyof typeof DEFAULT_FLOW_OPTIONS,
    flag: string,
    unit: 'bytes' | undefined,
    doc: string,
  ): OptionSpec =>
    option({
      key,
      flag: `--${flag} <n>`,
      env: `CONVERGE_${flag.toUpperCase().replaceAll('-', '_')}`,
      default: DEFAULT_FLOW_OPTIONS[key],
      unit,
      parse: nonNegativeInt,
      peer: { option: key, dial: true },
      doc,
    })
  return [
    flow(
      'maxInFlightBytes',
      'max-in-flight-bytes',
      'bytes',
      'received work in flight (not yet durable and forwarded) per connection; past it the socket is paused, not closed',
    ),
    flow(
      'maxInFlightMessages',
      'max-in-flight-messages',
      undefined,
      'received messages in flight per connection (paused past it)',
    ),
    flow(
      'maxDocInFlightBytes',
      'max-doc-in-flight-bytes',
      'bytes',
      'received work in flight per document, all connections together (its senders paused past it)',
    ),
    flow(
      'maxDocInFlightMessages',
      'max-doc-in-flight-messages',
      undefined,
      'received messages in flight per document, all connections together',
    ),
    flow(
      'inFlightCeiling',
      'in-flight-ceiling',
      undefined,
      'hard ceiling, × the connection budgets: a client connection past it is closed (1013)',
    ),
    flow(
      'slowReaderBytes',
      'slow-reader-bytes',
      'bytes',
      'queue on a socket past which its reader gets one diff per document when it drains, instead of every update',
    ),
    flow('maxBufferedBytes', 'max-buffered-bytes', 'bytes', 'queue on a socket past which it is closed (1013)'),
    flow(
      'maxSyncChunkBytes',
      'max-sync-chunk-bytes',
      'bytes',
      'largest sync answer in one message; a larger diff goes in parts',
    ),
  ]
}
