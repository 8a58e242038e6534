/**
 * Scenario (d), memory: K documents open on the server, each holding the first S
 * transactions of the trace, each opened by C clients (the first sends the document, the
 * others sync it from the server). Reported: the server's resident memory (VmRSS) and live
 * heap (V8 heapUsed after a forced full GC, memory-probe.ts) added per open document, how
 * fast the documents were opened and synced, and what is left once every client has left
 * and the unload delay has passed (converge: --unload-delay; the anchors unload a document
 * when its last client leaves).
 */
import { join } from 'node:path'
import * as Y from 'yjs'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { svObject } from '../lib/state-vector.js'
import { finalStateOf, type Trace } from '../lib/trace.js'
import { sleep, waitFor, withTimeout } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import { epochNow } from './drain-probe.js'
import type { MemoryReading } from './memory-probe.js'
import type { RunningServer, ServerTarget } from './targets.js'
import { inBatches, withServer } from './with-server.js'

export interface MemoryOptions {
  /** Documents open at once. Default 1_000. */
  docs: number
  /** Clients per document. Default 2. */
  clientsPerDoc: number
  /** Trace transactions in each document. Default 2_000. */
  editsPerDoc: number
  /** Documents opened at once (each by all its clients). Default 50. */
  concurrency: number
  /** Quiet time before each reading, in ms. Default 2_000. */
  settleMs: number
  /** The converge relay's --unload-delay in this scenario, ms (its default is 30 s). Default 1_000. */
  unloadDelayMs: number
  /** Longest wait for all documents to open and persist, in ms. Default 180_000. */
  timeout: number
}

export const MEMORY_DEFAULTS: MemoryOptions = {
  docs: 1_000,
  clientsPerDoc: 2,
  editsPerDoc: 2_000,
  concurrency: 50,
  settleMs: 2_000,
  unloadDelayMs: 1_000,
  timeout: 180_000,
}

/** Memory of the server at one moment: RSS as it was, heap after a full GC (MiB). */
export interface MemoryPoint {
  rssMiB: number
  heapUsedMiB: number
  /** Memory of C++ objects bound to JS (Buffers included), after the GC. */
  externalMiB: number
}

export interface MemoryResult {
  docs: number
  clientsPerDoc: number
  docBytes: number
  /** Connections the server held: one per client, or one per client "slot" multiplexed. */
  connections: number
  baseline: MemoryPoint
  open: MemoryPoint
  /** After every client left and the unload delay (+ settle) passed. */
  unloaded: MemoryPoint
  /** (RSS open − baseline) ÷ documents, KiB. */
  perDocKiB: number
  /** (heapUsed open − baseline) ÷ documents, KiB, after a full GC each time. */
  heapPerDocKiB: number
  /** (external open − baseline) ÷ documents, KiB. */
  externalPerDocKiB: number
  /** (RSS unloaded − baseline) ÷ documents, KiB: what unloading did not give back. */
  rssLeftPerDocKiB: number
  /** (heapUsed unloaded − baseline) ÷ documents, KiB. */
  heapLeftPerDocKiB: number
  /** Documents opened and synced (all their clients) per second (persistence is awaited after, untimed). */
  openedPerSecond: number
  /** The converge relay's unload delay in this run (ms); the anchors unload at once. */
  unloadDelayMs: number
  /** The cores while the documents were opened. */
  cores: CoreLoad
  /** The diagnostics that were on (`MEMORY_DIAGNOSTICS`): they perturb RSS, so such figures do not compare with plain runs. */
  diagnostics: string[]
}

/**
 * The environment variables that make the servers do diagnostic work besides the readings
 * (heap snapshots, allocation sampling, smaps copies); each leaves memory of its own behind.
 */
export const MEMORY_DIAGNOSTICS = ['BENCH_HEAP_SNAPSHOT_DIR', 'BENCH_HEAP_SAMPLING_FILE', 'BENCH_MEMORY_DETAIL_FILE']

/** Which of `MEMORY_DIAGNOSTICS` this run has on (the servers inherit the environment). */
export const memoryDiagnostics = (): string[] => MEMORY_DIAGNOSTICS.filter((v) => process.env[v] !== undefined)

const MiB = 2 ** 20

const reading = async (server: RunningServer, snapshot?: string): Promise<MemoryPoint> => {
  // RSS as the server left it (what an operator sees), then the heap after a full GC.
  const rss = server.process.rssBytes()
  const m: MemoryReading = await server.memory(snapshot)
  return { rssMiB: rss / MiB, heapUsedMiB: m.afterGc.heapUsed / MiB, externalMiB: m.afterGc.external / MiB }
}

/** converge: its loaded-documents gauge (the relay keeps its own system documents loaded too). */
const docsLoaded = async (server: RunningServer): Promise<number> => {
  if (server.metrics === undefined) return Number.NaN
  const m = /^converge_docs_loaded(?:\{[^}]*\})? (\S+)$/m.exec(await server.metrics())
  return m === null ? Number.NaN : Number(m[1])
}

/** converge: until its loaded-documents gauge is back at `baseline` (every bench document unloaded). */
const convergeUnloaded = async (server: RunningServer, baseline: number, timeout: number): Promise<void> => {
  if (!Number.isFinite(baseline)) return
  await waitFor(async () => (await docsLoaded(server)) <= baseline, {
    timeout,
    interval: 100,
    what: 'the relay to unload every document',
  })
}

export const runMemory = (
  target: ServerTarget,
  client: ClientKind,
  trace: Trace,
  options: MemoryOptions,
  multiplexed: boolean,
): Promise<MemoryResult> =>
  withServer(
    target,
    async (server) => {
      const seed = finalStateOf(trace, Math.min(options.editsPerDoc, trace.txns.length))
      const want = svObject(Y.encodeStateVectorFromUpdate(seed))
      const names = Array.from({ length: options.docs }, (_, i) => `memory-${i}`)
      await sleep(options.settleMs)
      // BENCH_HEAP_SNAPSHOT_DIR: heap snapshots of the server before, with every document open,
      // and after unload (for profiling; compare before and after to see what unload leaves).
      const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR
      const snapshot = (when: string) =>
        dir === undefined
          ? undefined
          : join(dir, `${target.name}-${client.name}${multiplexed ? '-1conn' : ''}${when}.heapsnapshot`)
      // The snapshot before the documents open is written before the baseline is read: writing
      // one leaves native memory resident (tens of MiB), which would otherwise count as per-document RSS.
      const before = snapshot('-before')
      if (before !== undefined) {
        await server.memory(before)
        await sleep(options.settleMs)
      }
      const baseline = await reading(server)
      const loadedBefore = await docsLoaded(server)
      const t0 = epochNow()
      const watch = new CoreLoadWatch([server.process.pid])
      const clients: BenchClient[] = []
      if (multiplexed) {
        if (client.openMany === undefined) throw new Error(`${client.name} cannot multiplex`)
        for (let c = 0; c < options.clientsPerDoc; c++) {
          const slot = await client.openMany(server.url, names, c === 0 ? seed : undefined)
          await withTimeout(Promise.all(slot.map((x) => x.synced())), options.timeout, 'the documents to sync')
          clients.push(...slot)
        }
      } else {
        const perDoc = await inBatches(names, options.concurrency, async (name) => {
          const mine: BenchClient[] = []
          for (let c = 0; c < options.clientsPerDoc; c++) {
            const x = await client.open(server.url, name, c === 0 ? seed : undefined)
            mine.push(x)
            await withTimeout(x.synced(), options.timeout, `${name} to sync`)
          }
          return mine
        })
        clients.push(...perDoc.flat())
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
      const open = await reading(server, snapshot(''))
      await inBatches(clients, options.concurrency, (c) => c.close())
      await sleep(options.unloadDelayMs)
      await convergeUnloaded(server, loadedBefore, options.timeout)
      await sleep(options.settleMs)
      const unloaded = await reading(server, snapshot('-unloaded'))
      const perDoc = (mib: number) => (mib * 1024) / options.docs
      return {
        docs: options.docs,
        clientsPerDoc: options.clientsPerDoc,
        docBytes: seed.length,
        connections: multiplexed ? options.clientsPerDoc : options.docs * options.clientsPerDoc,
        baseline,
        open,
        unloaded,
        perDocKiB: perDoc(open.rssMiB - baseline.rssMiB),
        heapPerDocKiB: perDoc(open.heapUsedMiB - baseline.heapUsedMiB),
        externalPerDocKiB: perDoc(open.externalMiB - baseline.externalMiB),
        rssLeftPerDocKiB: perDoc(unloaded.rssMiB - baseline.rssMiB),
        heapLeftPerDocKiB: perDoc(unloaded.heapUsedMiB - baseline.heapUsedMiB),
        openedPerSecond: (options.docs * 1000) / openedMs,
        unloadDelayMs: options.unloadDelayMs,
        cores,
        diagnostics: memoryDiagnostics(),
      }
    },
    { unloadDelayMs: options.unloadDelayMs },
  )
