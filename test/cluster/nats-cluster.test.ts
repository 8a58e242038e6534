import { afterEach, expect, it } from 'vitest'
import type { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { type Patch, readTrace } from '../durability/trace-file.js'
import { counter, relayDoc } from '../helpers/admin.js'
import { describeWithNats } from '../helpers/nats-servers.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import {
  type Cleanup,
  clusterRelays as clusterRelaysOf,
  failoverClient as failoverClientOf,
  items,
  missing,
  natsCluster as natsClusterOf,
  readyz,
  stockClient as stockClientOf,
  synced,
} from './cluster-fixtures.js'

const cleanup: Cleanup = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** Transactions of the trace each client replays: a bounded prefix keeps the test short. */
const TRACE_PREFIX = 400
/** These tests start a NATS cluster and relay processes: generous under a loaded machine, bounded still. */
const TIMEOUT = 150_000

const natsCluster = (binary: string) => natsClusterOf(cleanup, binary)
const clusterRelays = (nats: Parameters<typeof clusterRelaysOf>[1], count: number, extraArgs: string[] = []) =>
  clusterRelaysOf(cleanup, nats, count, extraArgs)
const stockClient = (url: string, room: string) => stockClientOf(cleanup, url, room)
const failoverClient = (urls: string[]) => failoverClientOf(cleanup, urls)

const applyPatch = (text: string, [pos, del, ins]: Patch) => text.slice(0, pos) + ins + text.slice(pos + del)

describeWithNats('relays as one cluster on NATS JetStream (real nats-server processes)', (binary) => {
  it(
    'stock y-websocket clients on three relays converge on a real trace, and a fourth relay with an empty data directory serves the document',
    async () => {
      const trace = readTrace('automerge-paper', 'nats cluster trace')
      if (trace === undefined) return
      const txns = trace.txns.slice(0, TRACE_PREFIX)
      let expected = ''
      for (const t of txns) for (const p of t.patches) expected = applyPatch(expected, p)

      const nats = await natsCluster(binary)
      // Snapshots every 100 updates: the fourth relay starts from one.
      const relays = await clusterRelays(nats, 3, ['--nats-snapshot-every', '100'])
      const clients = relays.map((r) => stockClient(r.url, 'paper'))
      await Promise.all(clients.map((c) => synced(c.provider)))
      // Each client replays the trace into its own text of the one document, concurrently.
      await Promise.all(
        clients.map(async ({ doc }, i) => {
          const text = doc.getText(`t${i}`)
          for (let k = 0; k < txns.length; k++) {
            doc.transact(() => {
              for (const [pos, del, ins] of (txns[k] as { patches: Patch[] }).patches) {
                if (del > 0) text.delete(pos, del)
                if (ins !== '') text.insert(pos, ins)
              }
            })
            if (k % 50 === 49) await new Promise((resolve) => setImmediate(resolve))
          }
        }),
      )
      const done = (doc: Y.Doc) => [0, 1, 2].every((i) => doc.getText(`t${i}`).toString() === expected)
      await waitFor(() => clients.every((c) => done(c.doc)), {
        timeout: 60_000,
        what: 'every client to hold all three replays',
      })
      const sv = Y.encodeStateVector(clients[0]?.doc as Y.Doc)
      for (const c of clients) expect(Y.encodeStateVector(c.doc)).toEqual(sv)
      // Presence crosses relays over core NATS.
      clients[0]?.provider.awareness.setLocalStateField('user', { name: 'on-relay-0' })
      const seesIt = (c: { provider: WebsocketProvider }) =>
        [...c.provider.awareness.getStates().values()].some(
          (s) => (s.user as { name?: string } | undefined)?.name === 'on-relay-0',
        )
      await waitFor(() => clients.every(seesIt), { timeout: 30_000, what: 'presence to reach the other relays' })
      for (const r of relays) expect(await counter(r, 'converge_nats_published_total')).toBeGreaterThan(0)

      // A relay that never held the document, with an empty data directory.
      const [fourth] = await clusterRelays(nats, 1)
      await waitFor(async () => (await readyz(fourth as RelayProcess)).nats?.connected === true, {
        timeout: 30_000,
        what: 'the fourth relay to reach NATS',
      })
      const late = stockClient((fourth as RelayProcess).url, 'paper')
      await synced(late.provider)
      await waitFor(() => done(late.doc), { timeout: 30_000, what: 'the fourth relay to serve the whole document' })
      expect(await counter(fourth as RelayProcess, 'converge_nats_snapshots_loaded_total')).toBe(1)
    },
    TIMEOUT,
  )

  it(
    'a relay SIGKILLed mid-edit: its clients fail over to another relay and nothing acknowledged is lost',
    async () => {
      const nats = await natsCluster(binary)
      const [a, b, c] = (await clusterRelays(nats, 3)) as [RelayProcess, RelayProcess, RelayProcess]
      const writer = await failoverClient([a.url, b.url])
      const doc = await writer.open('failover')
      await writer.whenSynced('failover', { timeout: 30_000 })
      const acknowledged: string[] = []
      let n = 0
      const writeAndConfirm = async () => {
        const batch = [`w${n++}`, `w${n++}`, `w${n++}`]
        doc.getArray<string>('items').push(batch)
        await writer.whenSaved('failover', { timeout: 60_000 })
        acknowledged.push(...batch)
      }
      for (let i = 0; i < 10; i++) await writeAndConfirm()
      // Keep writing while relay A dies: edits in flight are retried on B.
      const writing = (async () => {
        for (let i = 0; i < 20; i++) await writeAndConfirm()
      })()
      await waitFor(() => acknowledged.length >= 45, { timeout: 30_000, what: 'edits on relay A' })
      await a.kill()
      await writing
      expect(acknowledged.length).toBe(90)
      // A fresh client on the third relay sees every acknowledged edit.
      const reader = stockClient(c.url, 'failover')
      await synced(reader.provider)
      await waitFor(() => acknowledged.every((x) => items(reader.doc).has(x)), {
        timeout: 30_000,
        what: 'every acknowledged edit on relay C',
      })
      expect(await counter(b, 'converge_nats_published_total')).toBeGreaterThan(0)
    },
    TIMEOUT,
  )

  it(
    'NATS outages: with one node of three killed every acknowledged edit still reaches every relay; with all stopped clients keep editing, and once NATS is back every relay converges losing nothing acknowledged',
    async () => {
      const nats = await natsCluster(binary)
      const [a, b] = (await clusterRelays(nats, 2)) as [RelayProcess, RelayProcess]
      const onA = await failoverClient([a.url])
      const onB = await failoverClient([b.url])
      const docA = await onA.open('outage')
      const docB = await onB.open('outage')
      await onA.whenSynced('outage', { timeout: 30_000 })
      await onB.whenSynced('outage', { timeout: 30_000 })
      docA.getArray<string>('items').push(['a-before'])
      await waitFor(() => items(docB).has('a-before'), { timeout: 30_000, what: 'the first edit to cross relays' })
      const acknowledged = ['a-before']
      /** Every relay (its clients and its store) holds every acknowledged edit. */
      const everyRelayHoldsAcknowledged = (what: string) =>
        waitFor(
          async () =>
            missing(docA, acknowledged).length === 0 &&
            missing(docB, acknowledged).length === 0 &&
            missing(await relayDoc(a, 'outage'), acknowledged).length === 0 &&
            missing(await relayDoc(b, 'outage'), acknowledged).length === 0,
          { timeout: 30_000, interval: 100, what },
        )

      // One node of three gone, possibly the one a relay's connection or a document's
      // consumer sat on: JetStream (R3) keeps a quorum, saved still means replicated, and
      // each relay's feed resumes on the survivors.
      await nats.kill(0)
      for (let i = 0; i < 3; i++) {
        docA.getArray<string>('items').push([`a-one-node-down-${i}`])
        docB.getArray<string>('items').push([`b-one-node-down-${i}`])
        await onA.whenSaved('outage', { timeout: 60_000 })
        await onB.whenSaved('outage', { timeout: 60_000 })
        acknowledged.push(`a-one-node-down-${i}`, `b-one-node-down-${i}`)
      }
      await everyRelayHoldsAcknowledged('every acknowledged edit on every relay with one NATS node down')

      // Every node gone: each relay keeps serving its own clients, and says it is degraded.
      await nats.killAll()
      await waitFor(async () => (await readyz(a)).status === 'degraded' && (await readyz(b)).status === 'degraded', {
        timeout: 30_000,
        what: 'both relays to report degraded',
      })
      const secondOnA = stockClient(a.url, 'outage')
      await synced(secondOnA.provider)
      for (let i = 0; i < 5; i++) {
        docA.getArray<string>('items').push([`a-offline-${i}`])
        docB.getArray<string>('items').push([`b-offline-${i}`])
      }
      // Clients of one relay still see each other.
      await waitFor(() => items(secondOnA.doc).has('a-offline-4'), {
        what: 'a local edit to reach a second local client',
      })
      expect(items(docA).has('b-offline-0')).toBe(false)
      expect(await counter(a, 'converge_nats_connected')).toBe(0)
      expect(await counter(a, 'converge_nats_unpublished_docs')).toBe(1)

      // NATS returns: the relays publish what they buffered and catch up.
      await nats.startAll()
      await nats.waitHealthy()
      for (let i = 0; i < 5; i++) acknowledged.push(`a-offline-${i}`, `b-offline-${i}`)
      await onA.whenSaved('outage', { timeout: 60_000 })
      await onB.whenSaved('outage', { timeout: 60_000 })
      await everyRelayHoldsAcknowledged('every relay to converge after NATS returned')
      await waitFor(() => missing(secondOnA.doc, acknowledged).length === 0, {
        timeout: 30_000,
        what: 'the second client on relay A to converge',
      })
      await waitFor(async () => (await readyz(a)).status === 'ready', { timeout: 30_000, what: 'relay A ready again' })
      expect(await counter(a, 'converge_nats_unpublished_docs')).toBe(0)
    },
    TIMEOUT,
  )
})
