import { DEFAULT_REPLICA_OPTIONS } from '@converge/core'
import { bool, nonNegativeInt, text } from './option-parsers.js'
import { type OptionSpec, option } from './option-spec-types.js'

/** How the relay serves: durability, TLS, static files, the admin API, documents in memory. */
export const SERVER_OPTION_SPEC: readonly OptionSpec[] = [
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
    key: 'coldDocs',
    flag: '--cold-docs <on|off>',
    env: 'CONVERGE_COLD_DOCS',
    default: true,
    parse: bool,
    doc: 'serve documents from their stored bytes, building a Y.Doc only when one is needed: sync answers, and updates that surely apply whole to one plain text or list (off in a NATS cluster)',
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
    key: 'awarenessCoalesceMs',
    flag: '--awareness-coalesce <ms>',
    env: 'CONVERGE_AWARENESS_COALESCE_MS',
    default: DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMs,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: "merge a document's presence changes and send them at most this often (joins and leaves without waiting, those of one event-loop turn as one update); 0: each at once",
  }),
  option({
    key: 'awarenessFramesPerSecond',
    flag: '--awareness-frames-per-second <n>',
    env: 'CONVERGE_AWARENESS_FRAMES_PER_SECOND',
    default: DEFAULT_REPLICA_OPTIONS.awarenessFramesPerSecond,
    parse: nonNegativeInt,
    doc: "stretch a document's presence window so that its merged presence goes out in at most this many frames a second over all its sessions (200 clients: 100 ms); 0: never stretch",
  }),
  option({
    key: 'awarenessCoalesceMaxMs',
    flag: '--awareness-coalesce-max <ms>',
    env: 'CONVERGE_AWARENESS_COALESCE_MAX_MS',
    default: DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMaxMs,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'the longest a stretched presence window gets',
  }),
]
