import * as prng from 'lib0/prng'
import { afterEach, describe, it } from 'vitest'
import { adminArgs } from '../helpers/admin.js'
import { freePort, RelayProcess } from '../helpers/relay-process.js'
import { envInt, seedFor } from '../helpers/seed.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { expectConvergedNothingLost } from './chaos-outcome.js'
import { startClientSlots } from './client-slot.js'

const SOAK = process.env.CONVERGE_SOAK === '1'
/** How long faults are injected while clients insert, in s. CI: 25; soak: 300. */
const FAULT_SECONDS = envInt('CONVERGE_CHAOS_SECONDS', SOAK ? 300 : 25)

const CHAOS = {
  relays: 3,
  clients: 6,
  doc: 'chaos',
  /** Pause between two faults, in ms, [min, max]. */
  faultPause: [300, 1500] as [number, number],
  /** Relays down at once, at most (one always stays up, so some clients can save). */
  maxDeadRelays: 2,
  /** Client processes down at once, at most. */
  maxDeadClients: 2,
  /** Liveness short enough that a silent peer is noticed within 2 s. */
  heartbeat: { interval: 500, timeout: 2_000 },
  clientBackoff: { initialDelay: 50, maxDelay: 500 },
  /** Ids per insert, and pause between inserts in ms, per client. */
  batch: [1, 5] as [number, number],
  insertPause: [20, 120] as [number, number],
  /** How long a client process may take to open its store and document, in ms. */
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
 * Three relays in a ring (A dials B, B dials C, C dials A), and six client replicas in
 * child processes, two per relay. Every link, between relays or from a client, goes
 * through a TCP proxy the test can cut.
 */
const startCluster = async (seed: number) => {
  const ports = await Promise.all(Array.from({ length: CHAOS.relays }, () => freePort()))
  const meshLinks: TcpProxy[] = []
  for (let i = 0; i < CHAOS.relays; i++) {
    const proxy = await TcpProxy.start(ports[(i + 1) % CHAOS.relays] as number)
    cleanup.push(() => proxy.close())
    meshLinks.push(proxy)
  }
  const relays = await Promise.all(
    ports.map(async (port, i) => {
      const relay = await RelayProcess.start({
        port,
        peers: [(meshLinks[i] as TcpProxy).url],
        extraArgs: [
          ...adminArgs,
          '--allow-unauthenticated-relays',
          '--peer-id',
          `relay-${i}`,
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
  return { relays, meshLinks, clientLinks, clients }
}

describe('chaos: relay and client processes killed and links cut while clients write', () => {
  it(
    `after ${FAULT_SECONDS} s of SIGKILLs, restarts and cut links, the mesh heals: every relay and client holds the same state, with every acknowledged insert`,
    async () => {
      const seed = seedFor('chaos', import.meta.url, SOAK ? { CONVERGE_SOAK: 1 } : {})
      const rng = prng.create(seed)
      const { relays, meshLinks, clientLinks, clients } = await startCluster(seed)
      const links = [...meshLinks, ...clientLinks]
      const faults = { relayKills: 0, clientKills: 0, restarts: 0, relayLinkCuts: 0, clientLinkCuts: 0, restores: 0 }

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
        pick(deadRelays, (r) => r.start(), 'restarts')
        pick(deadClients, async (c) => (await c.restart()).run(), 'restarts')
        pick(
          meshLinks.filter((l) => !l.cutOff),
          (l) => l.cut(),
          'relayLinkCuts',
        )
        pick(
          clientLinks.filter((l) => !l.cutOff),
          (l) => l.cut(),
          'clientLinkCuts',
        )
        pick(
          links.filter((l) => l.cutOff),
          (l) => l.restore(),
          'restores',
        )
        await prng.oneOf(rng, choices)()
      }

      // Heal: every process up, every link restored; then clients stop once every insert is acknowledged.
      for (const relay of relays) if (!relay.alive) await relay.start()
      for (const client of clients) if (!client.alive) await client.restart()
      for (const link of links) link.restore()
      const healed = performance.now()
      await Promise.all(clients.map((c) => c.current.stop(CHAOS.quiesceTimeout)))

      await expectConvergedNothingLost({
        name: 'chaos',
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
