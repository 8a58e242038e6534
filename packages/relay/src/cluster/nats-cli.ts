import { InvalidArgumentError, Option } from 'commander'
import { NATS_DEFAULTS, type NatsClusterOptions, type NatsSavedMode } from './nats-options.js'

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`)
  return n
}

/** The `converge relay` flags of a cluster on NATS JetStream. */
export const natsCliOptions = (): Option[] => [
  new Option(
    '--nats <urls>',
    'join the cluster of relays on these NATS servers (comma-separated nats:// URLs); replaces --peer',
  ).env('CONVERGE_NATS'),
  new Option('--nats-user <user>', 'NATS user').env('CONVERGE_NATS_USER'),
  new Option('--nats-pass <password>', 'NATS password').env('CONVERGE_NATS_PASS'),
  new Option('--nats-creds <file>', 'NATS credentials file (JWT and NKey seed)').env('CONVERGE_NATS_CREDS'),
  new Option('--nats-tls-ca <file>', 'CA certificate (PEM) to verify the NATS servers: connect with TLS').env(
    'CONVERGE_NATS_TLS_CA',
  ),
  new Option('--nats-tls-cert <file>', 'client certificate (PEM) for NATS').env('CONVERGE_NATS_TLS_CERT'),
  new Option('--nats-tls-key <file>', 'client key (PEM) for NATS').env('CONVERGE_NATS_TLS_KEY'),
  new Option(
    '--nats-saved <mode>',
    "what a client's saved means: replicated (durable here and acknowledged by JetStream) or local (durable here)",
  )
    .env('CONVERGE_NATS_SAVED')
    .choices(['replicated', 'local'])
    .default(NATS_DEFAULTS.saved),
  new Option('--nats-replicas <n>', 'replicas of the stream and snapshot bucket this relay creates (1 or 3)')
    .env('CONVERGE_NATS_REPLICAS')
    .default(NATS_DEFAULTS.replicas)
    .argParser(positiveInt('nats-replicas')),
  new Option('--nats-retention <ms>', 'how long the stream keeps updates (0: forever); snapshots keep the rest')
    .env('CONVERGE_NATS_RETENTION')
    .default(NATS_DEFAULTS.retention)
    .argParser(positiveInt('nats-retention')),
  new Option('--nats-snapshot-every <n>', 'updates of a document between two snapshots in the KV bucket')
    .env('CONVERGE_NATS_SNAPSHOT_EVERY')
    .default(NATS_DEFAULTS.snapshotEvery)
    .argParser(positiveInt('nats-snapshot-every')),
  new Option('--nats-catchup-timeout <ms>', "longest wait for a document's catch-up when it loads")
    .env('CONVERGE_NATS_CATCHUP_TIMEOUT')
    .default(NATS_DEFAULTS.catchupTimeout)
    .argParser(positiveInt('nats-catchup-timeout')),
  new Option('--nats-stream <name>', 'JetStream stream of updates')
    .env('CONVERGE_NATS_STREAM')
    .default(NATS_DEFAULTS.stream),
  new Option('--nats-prefix <token>', 'first token of the subjects')
    .env('CONVERGE_NATS_PREFIX')
    .default(NATS_DEFAULTS.subjectPrefix),
]

/** The cluster options of parsed flags; undefined without --nats. */
export const natsOptionsOf = (opts: Record<string, unknown>): NatsClusterOptions | undefined => {
  const urls = typeof opts.nats === 'string' ? opts.nats : undefined
  const servers = urls
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (servers === undefined || servers.length === 0) return undefined
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
  return {
    servers,
    user: str(opts.natsUser),
    pass: str(opts.natsPass),
    credsFile: str(opts.natsCreds),
    tlsCa: str(opts.natsTlsCa),
    tlsCert: str(opts.natsTlsCert),
    tlsKey: str(opts.natsTlsKey),
    saved: str(opts.natsSaved) as NatsSavedMode | undefined,
    replicas: num(opts.natsReplicas),
    retention: num(opts.natsRetention),
    snapshotEvery: num(opts.natsSnapshotEvery),
    catchupTimeout: num(opts.natsCatchupTimeout),
    stream: str(opts.natsStream),
    subjectPrefix: str(opts.natsPrefix),
  }
}
