/**
 * Scenario (e), presence: N stock clients on one document, each moving its cursor (a
 * y-protocols awareness field) once per second, spread evenly over the second. Reported:
 * the server's CPU as a share of its core while they do, and how long an awareness change
 * takes from the mover to the observers (the first few clients; every client receives and
 * decodes every change, only the observers note the times). Latency = receipt − send, both
 * on this process's clock (the cursor carries its send time).
 */
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { latencySummary } from '../lib/stats.js'
import { sleep, waitFor, withTimeout } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import type { ServerTarget } from './targets.js'
import { inBatches, withServer } from './with-server.js'

export interface PresenceOptions {
  /** Clients on the document, each moving its cursor. Default 200. */
  clients: number
  /** Cursor moves per client per second. Default 1. */
  rate: number
  /** Seconds measured. Default 20. */
  seconds: number
  /** Seconds of moves before measuring (JIT warm-up). Default 3. */
  warmupSeconds: number
  /** Clients that note arrival times. Default 10. */
  observers: number
  /** Clients opened at once while connecting. Default 25. */
  connectConcurrency: number
}

export const PRESENCE_DEFAULTS: PresenceOptions = {
  clients: 200,
  rate: 1,
  seconds: 20,
  warmupSeconds: 3,
  observers: 10,
  connectConcurrency: 25,
}

export interface PresenceResult {
  clients: number
  /** Cursor moves sent while measuring. */
  moves: number
  /** Send → receipt at the observers, ms. */
  delivery: ReturnType<typeof latencySummary>
  /** Deliveries noted ÷ deliveries expected (observers × other clients' moves sent while measuring). */
  deliveredShare: number
  /** The server's CPU time while measuring ÷ wall time (share of one core). */
  serverCpuShare: number
  cores: CoreLoad
}

interface Cursor {
  n: number
  at: number
}

export const runPresence = (
  target: ServerTarget,
  client: ClientKind,
  options: PresenceOptions,
): Promise<PresenceResult> =>
  withServer(target, async (server) => {
    const doc = 'presence'
    const clients: BenchClient[] = await inBatches(
      Array.from({ length: options.clients }),
      options.connectConcurrency,
      async (_, i) => {
        const c = await client.open(server.url, doc)
        await withTimeout(c.synced(), 60_000, 'a client to sync')
        if (c.awareness === undefined) throw new Error(`${client.name} has no awareness`)
        c.awareness.setLocalStateField('user', { name: `user-${i}` })
        return c
      },
    )
    const awarenessOf = (c: BenchClient) => c.awareness as NonNullable<BenchClient['awareness']>
    const observers = clients.slice(0, options.observers)
    // Every observer sees every client before the moves start.
    await waitFor(() => observers.every((o) => awarenessOf(o).getStates().size >= options.clients), {
      timeout: 60_000,
      what: 'every observer to see every client',
    })

    const interval = 1000 / options.rate
    const ticks = Math.round((options.warmupSeconds + options.seconds) * options.rate)
    const start = performance.now() + 100
    const measureFrom = start + options.warmupSeconds * 1000
    let measuring = false
    const samples: number[] = []
    const listeners = observers.map((o) => {
      const a = awarenessOf(o)
      const lastSeen = new Map<number, number>()
      const listener = ({ added, updated }: { added: number[]; updated: number[] }) => {
        const now = performance.now()
        for (const id of [...added, ...updated]) {
          if (id === a.clientID) continue
          const cursor = (a.getStates().get(id) as { cursor?: Cursor } | undefined)?.cursor
          if (cursor === undefined || cursor.n <= (lastSeen.get(id) ?? -1)) continue
          lastSeen.set(id, cursor.n)
          if (measuring && cursor.at >= measureFrom) samples.push(now - cursor.at)
        }
      }
      a.on('change', listener)
      return listener
    })

    let watch: CoreLoadWatch | undefined
    let cpu0 = 0
    let moves = 0
    // One timeline for all clients: client i moves at start + tick × interval + i × (interval ÷ N).
    const schedule: Array<{ at: number; i: number; n: number }> = []
    for (let n = 0; n < ticks; n++)
      for (let i = 0; i < clients.length; i++)
        schedule.push({ at: start + n * interval + (i * interval) / clients.length, i, n })
    for (const move of schedule) {
      const wait = move.at - performance.now()
      if (wait > 0) await sleep(wait)
      if (!measuring && move.at >= measureFrom) {
        measuring = true
        watch = new CoreLoadWatch([server.process.pid])
        cpu0 = server.process.cpuMs()
      }
      if (measuring) moves++
      awarenessOf(clients[move.i] as BenchClient).setLocalStateField('cursor', {
        n: move.n,
        at: performance.now(),
      } satisfies Cursor)
    }
    const wall = performance.now() - measureFrom
    const cpu = server.process.cpuMs() - cpu0
    const cores = (watch as CoreLoadWatch).stop()
    // Let the last moves arrive.
    await sleep(500)
    measuring = false
    observers.forEach((o, k) => {
      awarenessOf(o).off('change', listeners[k] as never)
    })
    const expected = observers.length * moves - Math.round(moves / clients.length) * observers.length
    await inBatches(clients, options.connectConcurrency, (c) => c.close())
    return {
      clients: options.clients,
      moves,
      delivery: latencySummary(samples),
      deliveredShare: samples.length / expected,
      serverCpuShare: cpu / wall,
      cores,
    }
  })
