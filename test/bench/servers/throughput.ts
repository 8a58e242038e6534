/**
 * Scenario (a), update throughput: W writers, each on its own document, type the first
 * E transactions of the trace as fast as the load core can, one update per transaction
 * (live typing). Measured from the first edit until the server holds every update
 * (applied) and has persisted every update (durable), with the server's CPU time.
 */
import * as Y from 'yjs'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { type StateVectorObject, svObject } from '../lib/state-vector.js'
import { applyPatches, type Trace } from '../lib/trace.js'
import { withTimeout, yieldToIo } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import { epochNow } from './drain-probe.js'
import type { RunningServer, ServerTarget } from './targets.js'
import { withServer } from './with-server.js'

export interface ThroughputOptions {
  /** Writers, each on its own document. Default 4. */
  writers: number
  /** Trace transactions each writer types. Default 5_000. */
  edits: number
  /** Edits a writer makes per turn of the event loop before it lets I/O run. Default 20. */
  editsPerTurn: number
  /** Edits typed (on another document) before measuring, to warm up the JIT. Default 1_000. */
  warmupEdits: number
  /** Longest wait for the server to apply and persist everything, in ms. Default 300_000. */
  drainTimeout: number
}

export const THROUGHPUT_DEFAULTS: ThroughputOptions = {
  writers: 4,
  edits: 5_000,
  editsPerTurn: 20,
  warmupEdits: 1_000,
  drainTimeout: 300_000,
}

export interface ThroughputResult {
  updates: number
  /** ms from the first edit until the writers had made every edit (the load side's pace). */
  sendMs: number
  /** ms until the server held every update in memory. */
  appliedMs: number
  /** ms until the server had persisted every update. */
  durableMs: number
  appliedPerSecond: number
  durablePerSecond: number
  /** Server CPU per update, in µs (user + system, all threads). */
  serverCpuUsPerUpdate: number
  /** The cores from the first edit until everything was durable. */
  cores: CoreLoad
  serverPeakRssMiB: number
}

/** Types `edits` transactions into each client's doc, `perTurn` at a time, interleaving writers. */
const type = async (clients: BenchClient[], trace: Trace, edits: number, perTurn: number): Promise<void> => {
  const texts = clients.map((c) => c.doc.getText('text'))
  for (let i = 0; i < edits; i += perTurn) {
    const end = Math.min(edits, i + perTurn)
    for (const text of texts) {
      const doc = text.doc as Y.Doc
      for (let k = i; k < end; k++) doc.transact(() => applyPatches(text, trace.txns[k] ?? []))
    }
    await yieldToIo()
  }
}

const openAll = async (
  server: RunningServer,
  client: ClientKind,
  names: string[],
): Promise<{ clients: BenchClient[]; close: () => Promise<void> }> => {
  const clients = await Promise.all(names.map((n) => client.open(server.url, n)))
  await withTimeout(Promise.all(clients.map((c) => c.synced())), 30_000, `${client.name} clients to sync`)
  return { clients, close: async () => void (await Promise.all(clients.map((c) => c.close()))) }
}

const drainAll = async (server: RunningServer, names: string[], wants: StateVectorObject[], timeout: number) =>
  withTimeout(
    Promise.all(names.map((n, i) => server.drain(n, wants[i] as StateVectorObject))),
    timeout,
    'the server to apply and persist every update',
  )

export const runThroughput = (
  target: ServerTarget,
  client: ClientKind,
  trace: Trace,
  options: ThroughputOptions,
): Promise<ThroughputResult> =>
  withServer(target, async (server) => {
    // Warm-up on its own document, so JIT compilation is not measured.
    const warm = await openAll(server, client, ['warmup'])
    await type(warm.clients, trace, options.warmupEdits, options.editsPerTurn)
    await drainAll(
      server,
      ['warmup'],
      warm.clients.map((c) => svObject(Y.encodeStateVector(c.doc))),
      options.drainTimeout,
    )
    await warm.close()

    const names = Array.from({ length: options.writers }, (_, i) => `throughput-${i}`)
    const { clients, close } = await openAll(server, client, names)
    const cpu0 = server.process.cpuMs()
    const watch = new CoreLoadWatch([server.process.pid])
    const t0 = epochNow()
    await type(clients, trace, options.edits, options.editsPerTurn)
    const sent = epochNow()
    const wants = clients.map((c) => svObject(Y.encodeStateVector(c.doc)))
    const drained = await drainAll(server, names, wants, options.drainTimeout)
    const cpu1 = server.process.cpuMs()
    const cores = watch.stop()
    const appliedAt = Math.max(...drained.map((d) => d.appliedAt))
    const durableAt = Math.max(...drained.map((d) => d.durableAt))
    const peak = server.process.peakRssBytes()
    await close()
    const updates = options.writers * options.edits
    return {
      updates,
      sendMs: sent - t0,
      appliedMs: appliedAt - t0,
      durableMs: durableAt - t0,
      appliedPerSecond: (updates * 1000) / (appliedAt - t0),
      durablePerSecond: (updates * 1000) / (durableAt - t0),
      serverCpuUsPerUpdate: ((cpu1 - cpu0) * 1000) / updates,
      cores,
      serverPeakRssMiB: peak / 2 ** 20,
    }
  })
