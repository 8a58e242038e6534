/**
 * Fan-out latency through relay hops (issue 4): relays in a line A–B–C–D (each dials the
 * one before it). A converge client on A types one character per update at a steady rate;
 * converge clients on A (0 hops), B (1 hop) and D (3 hops) note when each arrives.
 */
import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { measureLatencies } from '../lib/latency.js'
import { latencySummary } from '../lib/stats.js'
import type { Trace } from '../lib/trace.js'
import { waitFor } from '../lib/wait.js'
import { MeshRelay } from './mesh-relay.js'

export interface HopsOptions {
  /** Updates measured. Default 250. */
  updates: number
  /** Updates sent first, not measured. Default 50. */
  warmupUpdates: number
  /** Updates per second. Default 50. */
  rate: number
  /** Readers per relay that has readers. Default 1. */
  readersPerRelay: number
  /** Longest wait for any step, in ms. Default 60_000. */
  timeout: number
}

export const HOPS_DEFAULTS: HopsOptions = {
  updates: 250,
  warmupUpdates: 50,
  rate: 50,
  readersPerRelay: 1,
  timeout: 60_000,
}

export interface HopsResult {
  hops: number
  relay: string
  latency: ReturnType<typeof latencySummary>
}

/** Mesh links open on `relay` (its converge_peers_connected{role="relay"} gauge). */
const meshLinks = async (relay: MeshRelay): Promise<number> => {
  const m = /^converge_peers_connected\{role="relay"\} (\d+)/m.exec(await relay.metrics())
  return m ? Number(m[1]) : 0
}

export const runHops = async (trace: Trace, options: HopsOptions): Promise<{ rows: HopsResult[]; cores: CoreLoad }> => {
  const a = await MeshRelay.start('A')
  const b = await MeshRelay.start('B', [a.url])
  const c = await MeshRelay.start('C', [b.url])
  const d = await MeshRelay.start('D', [c.url])
  const relays = [a, b, c, d]
  const replicas: Replica[] = []
  try {
    const expected = [1, 2, 2, 1]
    await waitFor(
      async () => (await Promise.all(relays.map(meshLinks))).every((n, i) => n >= (expected[i] as number)),
      {
        timeout: options.timeout,
        interval: 50,
        what: 'the line A–B–C–D to connect',
      },
    )
    const client = async (relay: MeshRelay) => {
      const replica = new Replica({ store: new MemoryStore() })
      replicas.push(replica)
      replica.connect(websocket(relay.url))
      const doc = await replica.open('hops')
      await replica.whenSynced('hops', { timeout: options.timeout })
      return doc
    }
    const writer = await client(a)
    const readerRelays = [
      { hops: 0, relay: a },
      { hops: 1, relay: b },
      { hops: 3, relay: d },
    ]
    const readers: Array<{ hops: number; relay: MeshRelay; doc: Awaited<ReturnType<typeof client>> }> = []
    for (const r of readerRelays) {
      for (let i = 0; i < options.readersPerRelay; i++) readers.push({ ...r, doc: await client(r.relay) })
    }
    const watch = new CoreLoadWatch(relays.map((r) => r.process.pid))
    const perReader = await measureLatencies(
      writer,
      readers.map((r) => r.doc),
      { ...options, settleTimeout: options.timeout, text: trace.endContent },
    )
    const cores = watch.stop()
    const rows = readerRelays.map(({ hops, relay }) => ({
      hops,
      relay: relay.name,
      latency: latencySummary(perReader.filter((_, i) => readers[i]?.relay === relay).flat()),
    }))
    return { rows, cores }
  } finally {
    await Promise.all(replicas.map((r) => r.destroy()))
    await Promise.all(relays.map((r) => r.dispose()))
  }
}
