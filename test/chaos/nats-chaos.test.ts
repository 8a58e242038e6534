import * as prng from 'lib0/prng'
import { afterEach, it } from 'vitest'
import { adminArgs } from '../helpers/admin.js'
import { describeWithNats, NatsServers } from '../helpers/nats-servers.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { envInt, seedFor } from '../helpers/seed.js'
import { expectConvergedNothingLost } from './chaos-outcome.js'
import { startClientSlots } from './client-slot.js'

/** How long faults are injected while clients insert, in s. CI: 20 (the whole test stays near 90 s). */
const FAULT_SECONDS = envInt('CONVERGE_NATS_CHAOS_SECONDS', 20)

const CHAOS = {
  natsNodes: 3,
  relays: 3,
  clients: 6,
  doc: 'nats-chaos',
  /** Pause between two faults, in ms, [min, max]. */
  faultPause: [400, 1500] as [number, number],
  /** Relays down at once, at most (one always stays up, so some clients can save). */
  maxDeadRelays: 2,
  /** Client processes down at once, at most. */
  maxDeadClients: 2,
  /**
   * NATS nodes killed one at a time while at most this many are down (R3 keeps a quorum);
   * besides, an outage fault kills every node at once, and they come back one by one.
   */
  maxDeadNodes: 1,
  heartbeat: { interval: 500, timeout: 2_000 },
  clientBackoff: { initialDelay: 50, maxDelay: 500 },
  batch: [1, 5] as [number, number],
  insertPause: [30, 150] as [number, number],
  clientStartTimeout: 20_000,
  /** After healing: how long clients may take to get every insert acknowledged, in ms. */
  quiesceTimeout: 60_000,
  /** After healing: how long all replicas may take to hold identical state, in ms. */
  convergeTimeout: 60_000,
}

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/**
 * Three nats-server nodes (one JetStream cluster, R3), three relays on it (no mesh links:
 * the stream is their only path), six client replicas in child processes, two per relay,
 * each through a TCP proxy the test can cut.
 */
const startCluster = async (binary: string, seed: number) => {
  const nats = await NatsServers.start(binary, CHAOS.natsNodes)
  cleanup.push(() => nats.dispose())
  const relays = await Promise.all(
    Array.from({ length: CHAOS.relays }, async () => {
      const relay = await RelayProcess.start({
        readyTimeout: 60_000,
        extraArgs: [
          ...adminArgs,
          '--nats',
          nats.urls,
          '--nats-replicas',
          String(CHAOS.natsNodes),
          '--heartbeat-interval',
          String(CHAOS.heartbeat.interval),
          '--heartbeat-timeout',
          String(CHAOS.heartbeat.timeout),
        ],
      })
      cleanup.push(() => relay.dispose())
      return relay
    }),
  )
  const { clientLinks, clients } = await startClientSlots(relays, CHAOS, seed, cleanup)
  return { nats, relays, clientLinks, clients }
}

describeWithNats('chaos: relays on a NATS JetStream cluster, with relays, clients and NATS nodes killed', (binary) => {
  it(
    `after ${FAULT_SECONDS} s of SIGKILLed relays, clients and NATS nodes and cut client links, every relay and client of the cluster holds the same state, with every acknowledged insert`,
    async () => {
      const seed = seedFor('nats-chaos', import.meta.url)
      const rng = prng.create(seed)
      const { nats, relays, clientLinks, clients } = await startCluster(binary, seed)
      const faults = {
        relayKills: 0,
        clientKills: 0,
        natsNodeKills: 0,
        natsOutages: 0,
        restarts: 0,
        natsNodeRestarts: 0,
        clientLinkCuts: 0,
        restores: 0,
      }
      const nodeUp = (i: number) => {
        const child = nats.nodes[i]?.child
        return child !== undefined && child.exitCode === null && child.signalCode === null
      }
      const nodeIds = nats.nodes.map((_, i) => i)

      for (const c of clients) c.current.run()
      const deadline = Date.now() + FAULT_SECONDS * 1000
      while (Date.now() < deadline) {
        // Paces the faults; nothing waits here for a state to be reached.
        await new Promise((r) => setTimeout(r, prng.int32(rng, CHAOS.faultPause[0], CHAOS.faultPause[1])))
        const choices: Array<() => Promise<void>> = []
        const pick = <T>(xs: T[], fault: (x: T) => void | Promise<void>, count: keyof typeof faults) => {
          if (xs.length === 0) return
          choices.push(async () => {
            await fault(prng.oneOf(rng, xs))
            faults[count]++
          })
        }
        const deadRelays = relays.filter((r) => !r.alive)
        const deadClients = clients.filter((c) => !c.alive)
        const deadNodes = nodeIds.filter((i) => !nodeUp(i))
        if (deadRelays.length < CHAOS.maxDeadRelays)
          pick(
            relays.filter((r) => r.alive),
            (r) => r.kill(),
            'relayKills',
          )
        if (deadClients.length < CHAOS.maxDeadClients)
          pick(
            clients.filter((c) => c.alive),
            (c) => c.kill(),
            'clientKills',
          )
        if (deadNodes.length < CHAOS.maxDeadNodes) pick(nodeIds.filter(nodeUp), (i) => nats.kill(i), 'natsNodeKills')
        if (deadNodes.length === 0) pick([nats], (n) => n.killAll(), 'natsOutages')
        pick(deadRelays, (r) => r.start(), 'restarts')
        pick(deadClients, async (c) => (await c.restart()).run(), 'restarts')
        pick(deadNodes, (i) => nats.startNode(i), 'natsNodeRestarts')
        pick(
          clientLinks.filter((l) => !l.cutOff),
          (l) => l.cut(),
          'clientLinkCuts',
        )
        pick(
          clientLinks.filter((l) => l.cutOff),
          (l) => l.restore(),
          'restores',
        )
        await prng.oneOf(rng, choices)()
      }

      // Heal: every NATS node, relay and client up, every link restored; then clients stop
      // once every insert is acknowledged (saved means JetStream acknowledged it).
      await nats.startAll()
      for (const relay of relays) if (!relay.alive) await relay.start()
      for (const client of clients) if (!client.alive) await client.restart()
      for (const link of clientLinks) link.restore()
      const healed = performance.now()
      await Promise.all(clients.map((c) => c.current.stop(CHAOS.quiesceTimeout)))

      await expectConvergedNothingLost({
        name: 'nats-chaos',
        seed,
        doc: CHAOS.doc,
        clients,
        relays,
        faults,
        healed,
        convergeTimeout: CHAOS.convergeTimeout,
      })
    },
    120_000 + FAULT_SECONDS * 3_000,
  )
})
