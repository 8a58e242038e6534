import type { LevelStore, LevelStoreOptions } from '@converge/level'
import { Command, Option } from 'commander'
import * as Y from 'yjs'
import { adminApiSource, type BackupSource, readBackupFile, restoreEntries, writeBackup } from './backup.js'
import { addRelayOptions, relayConfigOf } from './cli-options.js'
import { natsOptionsOf } from './cluster/nats-option-spec.js'
import { openDataDir } from './data-dir.js'
import { docToJson } from './doc-json.js'
import { createLogger } from './pretty-log.js'
import { progressLine } from './progress-line.js'
import { Relay } from './relay.js'
import { formatConfig } from './relay-config.js'
import { signToken } from './tokens.js'
import { VERSION } from './version.js'

const collect = (value: string, previous: string[] = []) => [...previous, value]

/** The `converge` command line. */
export const program = (): Command => {
  const cli = new Command('converge')
    .description('converge: a CRDT sync engine on Yjs, LevelDB and WebSockets')
    .version(VERSION)
    .showHelpAfterError('(run with --help for every option)')

  const relayCommand = cli
    .command('relay')
    .description('run a relay: persist documents, serve y-websocket and converge clients, peer with other relays')
  addRelayOptions(relayCommand).action(async (_opts, command: Command) => {
    // Files the relay creates (LevelDB tables and logs, revocations) are the owner's only.
    process.umask(0o077)
    const config = await relayConfigOf(command)
    if (command.opts().printConfig) {
      process.stdout.write(formatConfig(config))
      return
    }
    const { logLevel = 'info', logFormat = 'auto', ...options } = config.values
    const relay = await Relay.start({
      ...options,
      nats: natsOptionsOf(options),
      logger: createLogger({ level: logLevel, format: logFormat }),
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
    .addOption(new Option('--sub <subject>', 'who the token is for (logs; revocation by subject)'))
    .addOption(new Option('--kid <id>', "the key id of --secret (the relay's --auth-key ID=SECRET)"))
    .addOption(new Option('--no-presence', 'the bearer may not publish presence (awareness); default: it may'))
    .action(async (opts) => {
      const token = await signToken(
        opts.secret,
        {
          docs: opts.docs,
          mode: opts.mode,
          relay: Boolean(opts.relay),
          sub: opts.sub,
          ...(opts.presence === false ? { presence: false } : {}),
        },
        opts.ttl,
        { kid: opts.kid },
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
      process.umask(0o077)
      const progress = progressLine('backing up')
      const write = (source: BackupSource) => writeBackup(source, opts.out, progress.update).finally(progress.end)
      let count: number
      if (opts.url !== undefined) {
        if (opts.adminToken === undefined) throw new Error('--url needs --admin-token')
        count = await write(adminApiSource(opts.url, opts.adminToken))
      } else if (opts.data !== undefined) {
        // Reads only: no compaction rewrites the stopped relay's data meanwhile.
        count = await withLevelStore(opts.data, { autoCompact: false, create: false }, write)
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
      // The whole file is checked before the data directory is touched.
      const entries = await readBackupFile(opts.in)
      const progress = progressLine('restoring')
      const count = await withLevelStore(opts.data, { create: true }, (store) =>
        restoreEntries(entries, store, (done) => progress.update(done, entries.length)).finally(progress.end),
      )
      process.stdout.write(`restored ${count} documents into ${opts.data}\n`)
    })

  cli
    .command('inspect')
    .description("list the documents of a relay's data directory, or print one as JSON (the relay must be stopped)")
    .requiredOption('--data <dir>', 'LevelDB directory')
    .argument('[doc]', 'a document to print')
    .action(async (doc: string | undefined, opts: { data: string }) => {
      await withLevelStore(opts.data, { autoCompact: false, create: false }, async (store) => {
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
  options: LevelStoreOptions & { create: boolean },
  use: (store: LevelStore) => Promise<T>,
): Promise<T> => {
  const { create, ...storeOptions } = options
  const store = await openDataDir(dir, storeOptions, { create })
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
