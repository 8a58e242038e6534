/**
 * Scenario (c), cold sync: the whole trace's final document is stored on the server (sent
 * by one client, then the server is restarted), and a fresh client syncs it: from
 * creating the client until its doc holds the whole state. "Cold": first client after a
 * restart, so the server loads the document from LevelDB. "Warm": a second client while
 * the document is loaded.
 */
import * as Y from 'yjs'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { type StateVectorObject, svCovers, svObject } from '../lib/state-vector.js'
import { median } from '../lib/stats.js'
import { finalStateOf, type Trace } from '../lib/trace.js'
import { withTimeout } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import type { ServerTarget } from './targets.js'
import { withServer } from './with-server.js'

export interface ColdSyncOptions {
  /** Restarts measured (each: one cold client, then one warm client). Default 7. */
  rounds: number
  /** Longest wait for one sync, in ms. Default 60_000. */
  syncTimeout: number
}

export const COLD_SYNC_DEFAULTS: ColdSyncOptions = { rounds: 7, syncTimeout: 60_000 }

export interface ColdSyncResult {
  docBytes: number
  coldMs: number[]
  warmMs: number[]
  coldMedianMs: number
  warmMedianMs: number
  /** Server CPU from "ready" until the cold client had everything, median, ms. */
  coldServerCpuMs: number
  /**
   * Server CPU for the warm client, median, ms. The warm sync's wall time is mostly the stock
   * client applying the whole document on the load core (the same bytes from every server),
   * so this is the figure that compares the servers.
   */
  warmServerCpuMs: number
  /** The cores during the cold syncs (the median round's). */
  cores: CoreLoad
}

/** Resolves when `client.doc` holds every struct of `want`. */
export const holds = (client: BenchClient, want: StateVectorObject): Promise<void> =>
  new Promise((resolve) => {
    const check = () => {
      if (svCovers(svObject(Y.encodeStateVector(client.doc)), want)) {
        client.doc.off('update', check)
        resolve()
      }
    }
    client.doc.on('update', check)
    check()
  })

const timeSync = async (client: ClientKind, url: string, want: StateVectorObject, timeout: number) => {
  const t0 = performance.now()
  const c = await client.open(url, 'paper')
  await withTimeout(holds(c, want), timeout, `${client.name} to sync the document`)
  return { ms: performance.now() - t0, client: c }
}

export const runColdSync = (
  target: ServerTarget,
  client: ClientKind,
  trace: Trace,
  options: ColdSyncOptions,
): Promise<ColdSyncResult> =>
  withServer(target, async (first, data) => {
    const state = finalStateOf(trace)
    const want = svObject(Y.encodeStateVectorFromUpdate(state))
    // Store the document through the server's own write path, then restart it.
    const seeder = await client.open(first.url, 'paper', state)
    await withTimeout(seeder.synced(), options.syncTimeout, 'the seeding client to sync')
    await withTimeout(first.drain('paper', want), options.syncTimeout, 'the server to persist the document')
    await seeder.close()
    await first.stop()

    const coldMs: number[] = []
    const warmMs: number[] = []
    const cpu: number[] = []
    const warmCpu: number[] = []
    const cores: CoreLoad[] = []
    for (let round = 0; round < options.rounds; round++) {
      const server = await target.start(data)
      try {
        const cpu0 = server.process.cpuPreciseMs()
        const watch = new CoreLoadWatch([server.process.pid])
        const cold = await timeSync(client, server.url, want, options.syncTimeout)
        cpu.push(server.process.cpuPreciseMs() - cpu0)
        cores.push(watch.stop())
        const cpu1 = server.process.cpuPreciseMs()
        const warm = await timeSync(client, server.url, want, options.syncTimeout)
        warmCpu.push(server.process.cpuPreciseMs() - cpu1)
        coldMs.push(cold.ms)
        warmMs.push(warm.ms)
        await Promise.all([cold.client.close(), warm.client.close()])
      } finally {
        await server.stop()
      }
    }
    return {
      docBytes: state.length,
      coldMs,
      warmMs,
      coldMedianMs: median(coldMs),
      warmMedianMs: median(warmMs),
      coldServerCpuMs: median(cpu),
      warmServerCpuMs: median(warmCpu),
      cores: cores[coldMs.indexOf(median(coldMs))] as CoreLoad,
    }
  })
