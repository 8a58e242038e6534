import { nonNegativeInt, OptionValueError, oneOf, text } from '../option-parsers.js'
import type { OptionSpec } from '../option-spec.js'
import { NATS_DEFAULTS, type NatsClusterOptions, type NatsSavedMode } from './nats-options.js'

/**
 * The cluster's options as flat keys of the relay's configuration (flags, env, config
 * file); `natsOptionsOf` turns them into `RelayOptions.nats`.
 */
export interface NatsConfig {
  natsServers?: string[]
  natsUser?: string
  natsPass?: string
  natsCreds?: string
  natsTlsCa?: string
  natsTlsCert?: string
  natsTlsKey?: string
  natsSaved?: NatsSavedMode
  natsReplicas?: number
  natsRetention?: number
  natsSnapshotEvery?: number
  natsCatchupTimeout?: number
  natsStream?: string
  natsPrefix?: string
}

const SAVED_MODES = ['replicated', 'local'] as const

/** NATS server URLs, comma-separated: nats://, tls://, ws:// or wss://, with a host. */
export const natsUrls = (raw: string): string[] => {
  const urls = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (urls.length === 0) throw new OptionValueError('names no NATS server')
  for (const u of urls) {
    let url: URL
    try {
      url = new URL(u)
    } catch {
      throw new OptionValueError(`${JSON.stringify(u)} is not a URL; a NATS server is nats://host:4222`)
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) || url.hostname === '') {
      throw new OptionValueError(`${JSON.stringify(u)} is not a NATS server URL (nats://host:4222)`)
    }
  }
  return urls
}

const replicas = (raw: string): number => {
  const n = nonNegativeInt(raw)
  if (n < 1 || n > 5) throw new OptionValueError(`${n} replicas: JetStream takes 1 to 5`)
  return n
}

/** Specs of the cluster's options, in the relay's option spec (after the mesh's). */
export const NATS_OPTION_SPEC: readonly OptionSpec[] = [
  {
    key: 'natsServers',
    flag: '--nats <urls>',
    env: 'CONVERGE_NATS',
    parse: natsUrls,
    doc: 'join the cluster of relays on these NATS JetStream servers (comma-separated nats:// URLs); see "Cluster on NATS JetStream"',
  },
  { key: 'natsUser', flag: '--nats-user <user>', env: 'CONVERGE_NATS_USER', parse: text, doc: 'NATS user name' },
  {
    key: 'natsPass',
    flag: '--nats-pass <password>',
    env: 'CONVERGE_NATS_PASS',
    parse: text,
    doc: 'NATS password',
    secret: true,
  },
  {
    key: 'natsCreds',
    flag: '--nats-creds <file>',
    env: 'CONVERGE_NATS_CREDS',
    parse: text,
    doc: 'NATS credentials file (JWT and NKey seed)',
  },
  {
    key: 'natsTlsCa',
    flag: '--nats-tls-ca <file>',
    env: 'CONVERGE_NATS_TLS_CA',
    parse: text,
    doc: 'CA certificate (PEM) to verify the NATS servers with: connect with TLS',
  },
  {
    key: 'natsTlsCert',
    flag: '--nats-tls-cert <file>',
    env: 'CONVERGE_NATS_TLS_CERT',
    parse: text,
    doc: 'client certificate (PEM) for NATS servers that verify clients',
  },
  {
    key: 'natsTlsKey',
    flag: '--nats-tls-key <file>',
    env: 'CONVERGE_NATS_TLS_KEY',
    parse: text,
    doc: 'client key (PEM) for NATS',
  },
  {
    key: 'natsSaved',
    flag: '--nats-saved <mode>',
    env: 'CONVERGE_NATS_SAVED',
    default: NATS_DEFAULTS.saved,
    parse: oneOf(SAVED_MODES),
    doc: "what a client's saved means: replicated (durable here and acknowledged by JetStream) or local (durable here)",
  },
  {
    key: 'natsReplicas',
    flag: '--nats-replicas <n>',
    env: 'CONVERGE_NATS_REPLICAS',
    default: NATS_DEFAULTS.replicas,
    parse: replicas,
    doc: 'replicas of the stream and snapshot bucket when this relay creates them (3 on a three-node NATS cluster)',
  },
  {
    key: 'natsRetention',
    flag: '--nats-retention <ms>',
    env: 'CONVERGE_NATS_RETENTION',
    default: NATS_DEFAULTS.retention,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'how long the stream keeps updates (0: forever); finite only if every document is snapshotted within it (see the README)',
  },
  {
    key: 'natsSnapshotEvery',
    flag: '--nats-snapshot-every <n>',
    env: 'CONVERGE_NATS_SNAPSHOT_EVERY',
    default: NATS_DEFAULTS.snapshotEvery,
    parse: nonNegativeInt,
    doc: 'updates of a document between two snapshots in the KV bucket (also written when a relay unloads it)',
  },
  {
    key: 'natsCatchupTimeout',
    flag: '--nats-catchup-timeout <ms>',
    env: 'CONVERGE_NATS_CATCHUP_TIMEOUT',
    default: NATS_DEFAULTS.catchupTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: "longest wait for a document's catch-up when it loads; then the local copy is served",
  },
  {
    key: 'natsStream',
    flag: '--nats-stream <name>',
    env: 'CONVERGE_NATS_STREAM',
    default: NATS_DEFAULTS.stream,
    parse: text,
    doc: 'JetStream stream of updates',
  },
  {
    key: 'natsPrefix',
    flag: '--nats-prefix <token>',
    env: 'CONVERGE_NATS_PREFIX',
    default: NATS_DEFAULTS.subjectPrefix,
    parse: text,
    doc: 'first token of the subjects (<prefix>.doc.<doc>, <prefix>.aw.<doc>)',
  },
] as unknown as readonly OptionSpec[]

/** `RelayOptions.nats` from the flat configuration; undefined without servers. */
export const natsOptionsOf = (config: NatsConfig): NatsClusterOptions | undefined => {
  if (config.natsServers === undefined || config.natsServers.length === 0) return undefined
  return {
    servers: config.natsServers,
    user: config.natsUser,
    pass: config.natsPass,
    credsFile: config.natsCreds,
    tlsCa: config.natsTlsCa,
    tlsCert: config.natsTlsCert,
    tlsKey: config.natsTlsKey,
    saved: config.natsSaved,
    replicas: config.natsReplicas,
    retention: config.natsRetention,
    snapshotEvery: config.natsSnapshotEvery,
    catchupTimeout: config.natsCatchupTimeout,
    stream: config.natsStream,
    subjectPrefix: config.natsPrefix,
  }
}
