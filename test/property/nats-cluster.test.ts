import { MemoryStore, Replica } from '@converge/core'
import { Relay } from '@converge/relay'
import { websocket } from '@converge/websocket'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import * as Y from 'yjs'
import { describeWithNats, NatsServers } from '../helpers/nats-servers.js'
import { freePort } from '../helpers/relay-process.js'
import { envInt, seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'
import { applyEdit, canonicalJson, type EditOp, editOpArb } from './doc-edits.js'

/**
 * The edit model of the property tests on the NATS cluster topology: relays (in this
 * process, each on its own in-memory store, no mesh links) that share one JetStream, and
 * converge client replicas spread over them. The fake-timer model of mesh.test.ts cannot
 * hold a real nats-server, so time is real here and runs are few; faults are relay
 * restarts with an empty store (a relay that lost its disk), which must catch up from
 * the stream and the snapshots. Every run gets a stream, buckets and subjects of its own.
 */
const RUNS = envInt('CONVERGE_NATS_PROPERTY_RUNS', 20)
const DOC = 'prop'
const TIMEOUT = 60_000 + RUNS * 10_000

type Command = { kind: 'edit'; client: number; op: EditOp } | { kind: 'restart'; relay: number } | { kind: 'settle' }

const scenarioArb = fc.record({
  relays: fc.integer({ min: 2, max: 3 }),
  clients: fc.integer({ min: 2, max: 4 }),
  snapshotEvery: fc.constantFrom(2, 5, 1_000),
  commands: fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.record({ kind: fc.constant('edit' as const), client: fc.nat(), op: editOpArb }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), relay: fc.nat() }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
    ),
    { minLength: 5, maxLength: 40 },
  ) as fc.Arbitrary<Command[]>,
})

describeWithNats('property: relays as one cluster on NATS JetStream (real nats-server process)', (binary) => {
  let nats: NatsServers | undefined
  let run = 0

  beforeAll(async () => {
    nats = await NatsServers.start(binary, 1)
  }, 30_000)

  afterAll(async () => {
    await nats?.dispose()
  })

  it(
    'converge clients on different relays of a NATS cluster converge through random edits and relays restarted with empty stores, losing nothing saved',
    async () => {
      const seed = seedFor('nats-property', import.meta.url)
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          const id = `P${run++}_${seed}`
          const cluster = {
            servers: [(nats as NatsServers).urls],
            stream: `${id}_UPDATES`,
            snapshotBucket: `${id}_SNAPSHOTS`,
            snapshotObjects: `${id}_OBJECTS`,
            subjectPrefix: `p${id}`,
            snapshotEvery: scenario.snapshotEvery,
          }
          const ports = await Promise.all(Array.from({ length: scenario.relays }, () => freePort()))
          const startRelay = (i: number) =>
            Relay.start({ host: '127.0.0.1', port: ports[i], store: new MemoryStore(), logger: false, nats: cluster })
          const relays = await Promise.all(ports.map((_, i) => startRelay(i)))
          const clients = Array.from({ length: scenario.clients }, () => new Replica({ store: new MemoryStore() }))
          try {
            for (const [i, c] of clients.entries()) {
              const url = `ws://127.0.0.1:${ports[i % scenario.relays]}`
              c.connect(websocket(url), { backoff: { initialDelay: 20, maxDelay: 200 } })
            }
            const docs = await Promise.all(clients.map((c) => c.open(DOC)))
            for (const c of clients) await c.whenSynced(DOC, { timeout: 15_000 })
            /** States a client was told were saved: each must be in the final state. */
            const saved: Uint8Array[] = []
            const settle = async () => {
              await Promise.all(clients.map((c) => c.whenSaved(DOC, { timeout: 20_000 })))
              for (const d of docs) saved.push(Y.encodeStateAsUpdate(d))
            }
            for (const cmd of scenario.commands) {
              if (cmd.kind === 'edit') applyEdit(docs[cmd.client % docs.length] as Y.Doc, cmd.op)
              else if (cmd.kind === 'settle') await settle()
              else {
                const i = cmd.relay % relays.length
                await (relays[i] as Relay).stop()
                relays[i] = await startRelay(i)
              }
            }
            await settle()
            const json = () => docs.map((d) => canonicalJson(d))
            // Same content is not enough: an update that changes no visible value (a delete of
            // something already gone) still moves the state vector, so wait for both.
            const vectors = () => docs.map((d) => Buffer.from(Y.encodeStateVector(d)).toString('base64'))
            await waitFor(() => new Set(json()).size === 1 && new Set(vectors()).size === 1, {
              timeout: 20_000,
              interval: 50,
              what: 'every client to hold the same document and state vector',
            }).catch((err) => {
              throw new Error(`${(err as Error).message}: ${JSON.stringify(json())}`)
            })
            const sv = Y.encodeStateVector(docs[0] as Y.Doc)
            for (const d of docs) expect(Y.encodeStateVector(d)).toEqual(sv)
            // Nothing saved is lost: applying a saved state changes nothing.
            const final = docs[0] as Y.Doc
            for (const state of saved) {
              const copy = new Y.Doc()
              Y.applyUpdate(copy, Y.encodeStateAsUpdate(final))
              const before = canonicalJson(copy)
              Y.applyUpdate(copy, state)
              expect(canonicalJson(copy)).toBe(before)
              expect(Y.encodeStateVector(copy)).toEqual(sv)
            }
          } finally {
            for (const c of clients) await c.destroy()
            for (const r of relays) await r.stop()
          }
        }),
        { numRuns: RUNS, seed, endOnFailure: true },
      )
    },
    TIMEOUT,
  )
})
