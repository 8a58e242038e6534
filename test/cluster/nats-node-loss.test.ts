import { afterEach, expect, it } from 'vitest'
import { counter, relayDoc } from '../helpers/admin.js'
import { describeWithNats } from '../helpers/nats-servers.js'
import { waitFor } from '../helpers/wait.js'
import { type Cleanup, clusterRelay, failoverClient, missing, natsCluster, nodeUrl } from './cluster-fixtures.js'

const cleanup: Cleanup = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** Edits per client while a node is down; each is awaited as saved (JetStream-acknowledged). */
const EDITS_PER_ROUND = 3
/** Three rounds of node loss with relay processes: generous under a loaded machine, bounded still. */
const TIMEOUT = 150_000

describeWithNats('a NATS node lost under a cluster of relays (real nats-server processes)', (binary) => {
  it(
    'each node of an R3 cluster killed in turn, the one a relay is connected to among them: every edit a relay acknowledged reaches every relay, and the feeds whose consumer died start again',
    async () => {
      const nats = await natsCluster(cleanup, binary)
      // Relay i is given only node i: its connection sits there until that node dies, so
      // every round loses one relay's connection, and with it whatever consumers sat on that node.
      const relays = await Promise.all(nats.nodes.map((_, i) => clusterRelay(cleanup, nats, [], nodeUrl(nats, i))))
      const clients = await Promise.all(relays.map((r) => failoverClient(cleanup, [r.url])))
      const docs = await Promise.all(clients.map((c) => c.open('rolling')))
      for (const c of clients) await c.whenSynced('rolling', { timeout: 30_000 })
      const acknowledged: string[] = []
      const everywhere = async () => {
        for (const d of docs) if (missing(d, acknowledged).length > 0) return false
        for (const r of relays) if (missing(await relayDoc(r, 'rolling'), acknowledged).length > 0) return false
        return true
      }

      for (let down = 0; down < nats.nodes.length; down++) {
        await nats.kill(down)
        await Promise.all(
          clients.map(async (client, i) => {
            for (let n = 0; n < EDITS_PER_ROUND; n++) {
              const id = `node${down}-down-relay${i}-${n}`
              docs[i]?.getArray<string>('items').push([id])
              await client.whenSaved('rolling', { timeout: 60_000 })
              acknowledged.push(id)
            }
          }),
        )
        await waitFor(everywhere, {
          timeout: 30_000,
          interval: 100,
          what: `every acknowledged edit on every relay and client with NATS node ${down} down`,
        }).catch(async (err) => {
          const lacking = await Promise.all(
            relays.map(async (r) => missing(await relayDoc(r, 'rolling'), acknowledged)),
          )
          const logs = relays.map((r, i) => `relay ${i}:\n${r.output.slice(-4_000)}`).join('\n')
          throw new Error(`${(err as Error).message}; missing per relay: ${JSON.stringify(lacking)}\n${logs}`)
        })
        await nats.startNode(down)
        await nats.waitHealthy()
      }
      expect(acknowledged.length).toBe(nats.nodes.length * relays.length * EDITS_PER_ROUND)
      // Every node died once, so every document consumer died at least once (a consumer
      // has one replica, on some node) and was started again.
      let restarts = 0
      for (const r of relays) restarts += await counter(r, 'converge_nats_feed_restarts_total')
      expect(restarts).toBeGreaterThan(0)
    },
    TIMEOUT,
  )
})
