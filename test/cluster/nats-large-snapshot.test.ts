import { afterEach, expect, it } from 'vitest'
import { counter } from '../helpers/admin.js'
import { describeWithNats } from '../helpers/nats-servers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import {
  type Cleanup,
  clusterRelay,
  failoverClient,
  natsCluster,
  readyz,
  stockClient,
  synced,
} from './cluster-fixtures.js'

const cleanup: Cleanup = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** nats-server's default max_payload: a KV value (one message) holds less than this. */
const MAX_PAYLOAD = 1024 * 1024
/** Inserts of this many characters each: every update fits in a message, the document does not. */
const CHUNK = 256 * 1024
const CHUNKS = 12
const TIMEOUT = 120_000

const chunkText = (i: number) => `[${i}]`.padEnd(CHUNK, String.fromCharCode(97 + (i % 26)))

describeWithNats('snapshots larger than a NATS message (real nats-server process)', (binary) => {
  it(
    'a document of several MiB on servers with the default 1 MiB max_payload is snapshotted through the object store, and a relay with an empty data directory serves it from that snapshot',
    async () => {
      const nats = await natsCluster(cleanup, binary, 1, { maxPayload: '1MB' })
      // A snapshot every 4 updates: the first is already over 1 MiB.
      const writer = await clusterRelay(cleanup, nats, ['--nats-snapshot-every', '4'])
      const client = await failoverClient(cleanup, [writer.url])
      const doc = await client.open('big')
      await client.whenSynced('big', { timeout: 30_000 })
      const text = doc.getText('t')
      for (let i = 0; i < CHUNKS; i++) {
        text.insert(text.length, chunkText(i))
        // Saved means JetStream acknowledged it: each update went through as one message.
        await client.whenSaved('big', { timeout: 60_000 })
      }
      const expected = Array.from({ length: CHUNKS }, (_, i) => chunkText(i)).join('')
      expect(expected.length).toBeGreaterThanOrEqual(3 * MAX_PAYLOAD)
      await waitFor(async () => (await counter(writer, 'converge_nats_snapshots_written_total')) >= 2, {
        timeout: 30_000,
        what: 'the writing relay to store snapshots of the large document',
      })

      // A relay that never held the document, with an empty data directory.
      const fresh = await clusterRelay(cleanup, nats)
      await waitFor(async () => (await readyz(fresh as RelayProcess)).nats?.connected === true, {
        timeout: 30_000,
        what: 'the fresh relay to reach NATS',
      })
      const reader = stockClient(cleanup, fresh.url, 'big')
      await synced(reader.provider)
      await waitFor(() => reader.doc.getText('t').length === expected.length, {
        timeout: 30_000,
        what: 'the fresh relay to serve the whole document',
      })
      expect(reader.doc.getText('t').toString()).toBe(expected)
      // It started from a snapshot, which at over 1 MiB can only have come from the object store.
      expect(await counter(fresh, 'converge_nats_snapshots_loaded_total')).toBe(1)
    },
    TIMEOUT,
  )
})
