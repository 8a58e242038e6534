/**
 * Scenario (d), memory: K documents open on the server, each holding the first S
 * transactions of the trace, each opened by a client. Reported: the server's resident
 * memory added per open document (RSS with K open − RSS before, ÷ K), and how fast the K
 * documents were opened and synced.
 */
import * as Y from 'yjs'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { svObject } from '../lib/state-vector.js'
import { finalStateOf, type Trace } from '../lib/trace.js'
import { sleep, withTimeout } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import { epochNow } from './drain-probe.js'
import type { ServerTarget } from './targets.js'
import { inBatches, withServer } from './with-server.js'

export interface MemoryOptions {
  /** Documents open at once. Default 500. */
  docs: number
  /** Trace transactions in each document. Default 2_000. */
  editsPerDoc: number
  /** Clients (or documents, multiplexed) opened at once. Default 50. */
  concurrency: number
  /** Quiet time before each RSS reading, in ms. Default 2_000. */
  settleMs: number
  /** Longest wait for all documents to open and persist, in ms. Default 120_000. */
  timeout: number
}

export const MEMORY_DEFAULTS: MemoryOptions = {
  docs: 500,
  editsPerDoc: 2_000,
  concurrency: 50,
  settleMs: 2_000,
  timeout: 120_000,
}

export interface MemoryResult {
  docs: number
  docBytes: number
  /** One connection per document, or all documents on one connection. */
  connections: number
  baselineRssMiB: number
  openRssMiB: number
  /** (RSS with the documents open − baseline) ÷ documents, in KiB. */
  perDocKiB: number
  /** Documents opened and synced per second (persistence is awaited after, untimed). */
  openedPerSecond: number
  /** The cores while the documents were opened. */
  cores: CoreLoad
}

export const runMemory = (
  target: ServerTarget,
  client: ClientKind,
  trace: Trace,
  options: MemoryOptions,
  multiplexed: boolean,
): Promise<MemoryResult> =>
  withServer(target, async (server) => {
    const seed = finalStateOf(trace, Math.min(options.editsPerDoc, trace.txns.length))
    const want = svObject(Y.encodeStateVectorFromUpdate(seed))
    const names = Array.from({ length: options.docs }, (_, i) => `memory-${i}`)
    await sleep(options.settleMs)
    const baseline = server.process.rssBytes()
    const t0 = epochNow()
    const watch = new CoreLoadWatch([server.process.pid])
    let clients: BenchClient[]
    if (multiplexed) {
      if (client.openMany === undefined) throw new Error(`${client.name} cannot multiplex`)
      clients = await client.openMany(server.url, names, seed)
      await withTimeout(Promise.all(clients.map((c) => c.synced())), options.timeout, 'the documents to sync')
    } else {
      clients = await inBatches(names, options.concurrency, async (name) => {
        const c = await client.open(server.url, name, seed)
        await withTimeout(c.synced(), options.timeout, `${name} to sync`)
        return c
      })
    }
    const openedMs = epochNow() - t0
    const cores = watch.stop()
    // Every document stored before memory is read, so no server is caught mid-write.
    await withTimeout(
      inBatches(names, options.concurrency, (name) => server.drain(name, want)),
      options.timeout,
      'the documents to persist',
    )
    await sleep(options.settleMs)
    const open = server.process.rssBytes()
    await inBatches(clients, options.concurrency, (c) => c.close())
    return {
      docs: options.docs,
      docBytes: seed.length,
      connections: multiplexed ? 1 : options.docs,
      baselineRssMiB: baseline / 2 ** 20,
      openRssMiB: open / 2 ** 20,
      perDocKiB: (open - baseline) / options.docs / 1024,
      openedPerSecond: (options.docs * 1000) / openedMs,
      cores,
    }
  })
