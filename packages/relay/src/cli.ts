import { LevelStore, type LevelStoreOptions } from '@converge/level'
import { Command, InvalidArgumentError, Option } from 'commander'
import * as Y from 'yjs'
import { adminApiSource, restoreBackup, writeBackup } from './backup.js'
import { docToJson } from './doc-json.js'
import { Relay } from './relay.js'
import { signToken } from './tokens.js'

const int = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`)
  return n
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

const envList = (value: string | undefined) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** The `converge` command line. */
export const program = (): Command => {
  const cli = new Command('converge')
    .description('converge: a CRDT sync engine on Yjs, LevelDB and WebSockets')
    .showHelpAfterError()

  cli
    .command('relay')
    .description('run a relay: persist documents, serve y-websocket and converge clients, peer with other relays')
    .addOption(new Option('--host <host>', 'interface to listen on').env('HOST').default('localhost'))
    .addOption(
      new Option('--port <port>', 'port for HTTP and WebSocket').env('PORT').default(1234).argParser(int('port')),
    )
    .addOption(new Option('--data <dir>', 'LevelDB directory').env('CONVERGE_DATA').default('./data'))
    .addOption(
      new Option('--peer <url>', 'a relay to peer with, e.g. ws://relay-b:1234 (repeatable; env: comma-separated)')
        .env('CONVERGE_PEERS')
        .argParser(collect),
    )
    .addOption(
      new Option('--peer-token <token>', 'token presented to the relays this one dials').env('CONVERGE_PEER_TOKEN'),
    )
    .addOption(
      new Option('--auth-secret <secret>', 'require tokens signed with this HS256 secret (see `converge token`)').env(
        'CONVERGE_AUTH_SECRET',
      ),
    )
    .addOption(
      new Option('--fsync', 'fsync every write batch before acknowledging it (slower, survives power loss)').env(
        'CONVERGE_FSYNC',
      ),
    )
    .addOption(new Option('--tls-cert <file>', 'TLS certificate (PEM): serve https and wss').env('CONVERGE_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'TLS private key (PEM)').env('CONVERGE_TLS_KEY'))
    .addOption(
      new Option('--static <dir>', 'serve the files of this directory at / (the demo app)').env('CONVERGE_STATIC'),
    )
    .addOption(
      new Option('--admin-token <token>', 'enable the admin API under /api with this bearer token').env(
        'CONVERGE_ADMIN_TOKEN',
      ),
    )
    .addOption(
      new Option('--unload-delay <ms>', 'drop a document from memory this long after its last client left')
        .env('CONVERGE_UNLOAD_DELAY')
        .default(30_000)
        .argParser(int('unload-delay')),
    )
    .addOption(
      new Option('--max-message-bytes <n>', 'largest WebSocket frame accepted')
        .env('CONVERGE_MAX_MESSAGE_BYTES')
        .default(16 * 1024 * 1024)
        .argParser(int('max-message-bytes')),
    )
    .addOption(
      new Option('--max-pre-auth-bytes <n>', 'largest first frame (the hello) before a peer is authenticated')
        .env('CONVERGE_MAX_PRE_AUTH_BYTES')
        .default(64 * 1024)
        .argParser(int('max-pre-auth-bytes')),
    )
    .addOption(
      new Option('--handshake-timeout <ms>', 'close a converge.v1 peer that sent no hello within this long')
        .env('CONVERGE_HANDSHAKE_TIMEOUT')
        .default(10_000)
        .argParser(int('handshake-timeout')),
    )
    .addOption(
      new Option('--max-docs-per-connection <n>', 'most documents one client connection may have open')
        .env('CONVERGE_MAX_DOCS_PER_CONNECTION')
        .default(1_000)
        .argParser(int('max-docs-per-connection')),
    )
    .addOption(
      new Option('--max-pending-bytes <n>', 'most bytes of updates with missing dependencies one document may hold')
        .env('CONVERGE_MAX_PENDING_BYTES')
        .default(4 * 1024 * 1024)
        .argParser(int('max-pending-bytes')),
    )
    .addOption(
      new Option('--max-messages-per-second <n>', 'sustained messages per second per client connection (0: no limit)')
        .env('CONVERGE_MAX_MESSAGES_PER_SECOND')
        .default(5_000)
        .argParser(int('max-messages-per-second')),
    )
    .addOption(
      new Option('--message-burst <n>', 'burst allowance of the message rate limit')
        .env('CONVERGE_MESSAGE_BURST')
        .default(20_000)
        .argParser(int('message-burst')),
    )
    .addOption(
      new Option('--heartbeat-interval <ms>', 'converge.v1 ping interval')
        .env('CONVERGE_HEARTBEAT_INTERVAL')
        .default(10_000)
        .argParser(int('heartbeat-interval')),
    )
    .addOption(
      new Option('--heartbeat-timeout <ms>', 'close a peer silent for this long')
        .env('CONVERGE_HEARTBEAT_TIMEOUT')
        .default(30_000)
        .argParser(int('heartbeat-timeout')),
    )
    .addOption(
      new Option('--ping-interval <ms>', 'WebSocket ping interval; a socket missing a pong is dropped at the next')
        .env('CONVERGE_PING_INTERVAL')
        .default(15_000)
        .argParser(int('ping-interval')),
    )
    .addOption(new Option('--peer-id <id>', "this relay's id in the mesh (default: random)").env('CONVERGE_PEER_ID'))
    .addOption(
      new Option('--log-level <level>', 'log level')
        .env('CONVERGE_LOG_LEVEL')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .action(async (opts) => {
      const { pino } = await import('pino')
      const peers: string[] = Array.isArray(opts.peer)
        ? opts.peer.flatMap((p: string) => envList(p) ?? [])
        : (envList(opts.peer) ?? [])
      const relay = await Relay.start({
        host: opts.host,
        port: opts.port,
        data: opts.data,
        peers,
        peerToken: opts.peerToken,
        authSecret: opts.authSecret,
        fsync: Boolean(opts.fsync),
        static: opts.static,
        tlsCert: opts.tlsCert,
        tlsKey: opts.tlsKey,
        adminToken: opts.adminToken,
        unloadDelay: opts.unloadDelay,
        maxMessageBytes: opts.maxMessageBytes,
        maxPendingBytes: opts.maxPendingBytes,
        maxPreAuthBytes: opts.maxPreAuthBytes,
        handshakeTimeout: opts.handshakeTimeout,
        maxDocsPerConnection: opts.maxDocsPerConnection,
        maxMessagesPerSecond: opts.maxMessagesPerSecond,
        messageBurst: opts.messageBurst,
        heartbeatInterval: opts.heartbeatInterval,
        heartbeatTimeout: opts.heartbeatTimeout,
        pingInterval: opts.pingInterval,
        peerId: opts.peerId,
        logger: pino({ name: 'converge', level: opts.logLevel }),
      })
      const shutdown = (signal: string) => {
        relay.log.info({ signal }, 'shutting down')
        relay.stop().then(
          () => process.exit(0),
          (err) => {
            relay.log.error({ err }, 'shutdown failed')
            process.exit(1)
          },
        )
      }
      process.once('SIGINT', () => shutdown('SIGINT'))
      process.once('SIGTERM', () => shutdown('SIGTERM'))
    })

  cli
    .command('token')
    .description('print a token (HS256 JWT) for a relay started with --auth-secret')
    .addOption(
      new Option('--secret <secret>', "the relay's --auth-secret").env('CONVERGE_AUTH_SECRET').makeOptionMandatory(),
    )
    .addOption(
      new Option('--docs <pattern>', 'documents granted: * matches within a path segment, ** across (repeatable)')
        .argParser(collect)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--mode <mode>', 'read, or write (read and change)').choices(['read', 'write']).default('write'),
    )
    .addOption(new Option('--ttl <duration>', 'lifetime, e.g. 30m, 1h, 7d').default('1h'))
    .addOption(new Option('--relay', 'the bearer may join the mesh as a relay'))
    .addOption(new Option('--sub <subject>', 'who the token is for (shows in logs)'))
    .action(async (opts) => {
      const token = await signToken(
        opts.secret,
        { docs: opts.docs, mode: opts.mode, relay: Boolean(opts.relay), sub: opts.sub },
        opts.ttl,
      )
      process.stdout.write(`${token}\n`)
    })

  cli
    .command('backup')
    .description("write every document to one file, from a stopped relay's data or a running relay's admin API")
    .addOption(new Option('--data <dir>', 'LevelDB directory of a stopped relay').conflicts('url'))
    .addOption(new Option('--url <url>', 'a running relay, e.g. http://localhost:1234 (needs --admin-token)'))
    .addOption(new Option('--admin-token <token>', "the relay's admin token").env('CONVERGE_ADMIN_TOKEN'))
    .requiredOption('--out <file>', 'the backup file to write')
    .action(async (opts: { data?: string; url?: string; adminToken?: string; out: string }) => {
      let count: number
      if (opts.url !== undefined) {
        if (opts.adminToken === undefined) throw new Error('--url needs --admin-token')
        count = await writeBackup(adminApiSource(opts.url, opts.adminToken), opts.out)
      } else if (opts.data !== undefined) {
        // Reads only: no compaction rewrites the stopped relay's data meanwhile.
        count = await withLevelStore(opts.data, { autoCompact: false }, (store) => writeBackup(store, opts.out))
      } else {
        throw new Error('give --data DIR or --url URL')
      }
      process.stdout.write(`backed up ${count} documents to ${opts.out}\n`)
    })

  cli
    .command('restore')
    .description('merge the documents of a backup file into a data directory (the relay must be stopped)')
    .requiredOption('--data <dir>', 'LevelDB directory')
    .requiredOption('--in <file>', 'the backup file')
    .action(async (opts: { data: string; in: string }) => {
      const count = await withLevelStore(opts.data, {}, (store) => restoreBackup(opts.in, store))
      process.stdout.write(`restored ${count} documents into ${opts.data}\n`)
    })

  cli
    .command('inspect')
    .description("list the documents of a relay's data directory, or print one as JSON (the relay must be stopped)")
    .requiredOption('--data <dir>', 'LevelDB directory')
    .argument('[doc]', 'a document to print')
    .action(async (doc: string | undefined, opts: { data: string }) => {
      await withLevelStore(opts.data, { autoCompact: false }, async (store) => {
        if (doc === undefined) {
          for (const name of await store.list()) process.stdout.write(`${name}\n`)
          return
        }
        const update = await store.load(doc)
        if (update === undefined) throw new Error(`no document named ${JSON.stringify(doc)}`)
        const ydoc = new Y.Doc()
        Y.applyUpdate(ydoc, update)
        const stateVector = Object.fromEntries(Y.decodeStateVector(Y.encodeStateVector(ydoc)))
        process.stdout.write(
          `${JSON.stringify({ name: doc, bytes: update.length, stateVector, content: docToJson(ydoc) }, null, 2)}\n`,
        )
      })
    })

  return cli
}

/** Opens the LevelStore of a stopped relay's data directory for `use`, and closes it after. */
const withLevelStore = async <T>(
  dir: string,
  options: LevelStoreOptions,
  use: (store: LevelStore) => Promise<T>,
): Promise<T> => {
  const store = new LevelStore(dir, options)
  await store.open()
  try {
    return await use(store)
  } finally {
    await store.close()
  }
}

/** Runs the CLI with `argv` (as process.argv). */
export const main = async (argv: string[]): Promise<void> => {
  await program().parseAsync(argv)
}
