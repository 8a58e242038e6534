/**
 * Scenario (d), memory: K documents open on the server, each holding the first S
 * transactions of the trace, each opened by C clients (the first sends the document, the
 * others sync it from the server). Reported: the server's resident memory (VmRSS) and live
 * heap (V8 heapUsed after a forced full GC, memory-probe.ts) added per open document, how
 * fast the documents were opened and synced, and what is left once every client has left
 * and the unload delay has passed (converge: --unload-delay; the anchors unload a document
 * when its last client leaves). Before the baseline, a warm-up round opens, syncs and
 * unloads other documents through the same clients, the same for every server, so what a
 * process keeps once it has served any document (JIT code, V8 caches) is not counted per
 * document. RSS is read twice after each phase: `settleMs` after it (as the server left
 * it) and `steadyMs` after it (once V8's memory reducer had its chance). Then a second round
 * of as many other documents is opened and unloaded through the same clients: the heap it
 * leaves, against the heap after the first round, is what a round of documents leaves once
 * the process has served a round of that size (see `MemoryOptions.againDocs`).
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
  /**
   * Documents of their own (other names) opened, synced, persisted and unloaded through the
   * same clients before the baseline is read, so that what any server keeps once it has
   * served documents at all (JIT code, V8 caches, pooled buffers) is in the baseline rather
   * than counted per document. Default 100; 0 reads the baseline on a fresh process.
   */
  warmupDocs: number
  /**
   * Documents of a second round (other names), opened, synced, persisted and unloaded after
   * the first round's documents unloaded; 0: no second round. The first round's heap left
   * after unload also holds what only a round of that size makes once (the code V8
   * optimises only after a thousand documents, not after the warm-up's hundred; hash tables
   * grown to that peak): the second round, against the heap after the first, leaves only
   * what each document leaves. (A warm-up as big as the round would do the same for the
   * heap but leave the warm-up's pages resident in the RSS baseline, so that RSS per open
   * document read near zero or below.) Default 1_000 (as `docs`).
   */
  againDocs: number
  /** Quiet time before the first reading of RSS ("as the server left it"), in ms. Default 2_000. */
  settleMs: number
  /**
   * Time before the steady-state reading of RSS, in ms from the same moment. V8 gives
   * memory back (shrinks the young generation, releases free old-space pages) only in its
   * memory reducer: a timer 8 s after start or the last full GC (kLongDelayMs) that starts
   * a memory-reducing GC only once the allocation rate it samples (over ~5 s, at its own
   * ticks) is low, else it waits 8 s more; then up to 3 such GCs 0.5 s apart. So after a
   * burst it runs ~16–25 s later (measured: the relay idle with 500 documents gave back
   * 23 MiB 24 s after the last one opened). Stock y-websocket clients renew their presence
   * every 15 s (y-protocols' outdatedTimeout ÷ 2), so this reading also includes one round
   * of renewals: what a server holding idle clients looks like. The heap (after a forced
   * GC) is read after this reading, so the forced GC does not reset V8's timer. Default 30_000.
   */
  steadyMs: number
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
  warmupDocs: 100,
  againDocs: 1_000,
  settleMs: 2_000,
  steadyMs: 30_000,
  unloadDelayMs: 1_000,
  timeout: 180_000,
}

/** Memory of the server at one moment (MiB). */
export interface MemoryPoint {
  /** RSS as the server left it, `settleMs` after the activity stopped. */
  rssMiB: number
  /** RSS as the server left it, `steadyMs` after the activity stopped (V8's memory reducer has run). */
  rssSteadyMiB: number
  /**
   * converge: documents it held in memory (`converge_docs_loaded`, its own included) at
   * each RSS reading: documents with a Y.Doc (those served cold are not counted). A
   * connected client keeps its document in memory; results from before that fix show
   * the documents unloaded under their clients after the unload delay. NaN for the others.
   */
  docsLoaded: number
  docsLoadedSteady: number
  /** RSS once a second from the activity's end to the steady reading, MiB (how it got there). */
  rssSeriesMiB: number[]
  /** V8 heapUsed after a forced full GC (taken after the steady reading). */
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
  /** After the warm-up documents were opened and unloaded, before the measured ones. */
  baseline: MemoryPoint
  open: MemoryPoint
  /** After every client left and the unload delay (+ settle) passed. */
  unloaded: MemoryPoint
  /** (RSS open − baseline) ÷ documents, KiB, each read `settleMs` after activity. */
  perDocKiB: number
  /** (RSS open − baseline) ÷ documents, KiB, each read `steadyMs` after activity. */
  steadyPerDocKiB: number
  /** (heapUsed open − baseline) ÷ documents, KiB, after a full GC each time. */
  heapPerDocKiB: number
  /** (external open − baseline) ÷ documents, KiB. */
  externalPerDocKiB: number
  /** (steady RSS unloaded − steady baseline) ÷ documents, KiB: what unloading did not give back. */
  rssLeftPerDocKiB: number
  /** (heapUsed unloaded − baseline) ÷ documents, KiB. */
  heapLeftPerDocKiB: number
  /** V8 heapUsed after a forced full GC once the second round's documents unloaded, MiB (NaN: no second round). */
  unloadedAgainHeapMiB: number
  /** (heapUsed after the second round unloaded − after the first) ÷ its documents, KiB (NaN: no second round). */
  heapLeftAgainPerDocKiB: number
  /** Documents opened and synced (all their clients) per second (persistence is awaited after, untimed). */
  openedPerSecond: number
  /** The converge relay's unload delay in this run (ms); the anchors unload at once. */
  unloadDelayMs: number
  /** Warm-up documents opened and unloaded before the baseline. */
  warmupDocs: number
  /** Documents of the second round (0: none). */
  againDocs: number
  /** When the two RSS readings were taken, ms after the activity stopped (`MemoryOptions`). */
  settleMs: number
  steadyMs: number
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

/**
 * Reads the server's memory after its activity stopped (now): RSS as it left it after
 * `settleMs` and after `steadyMs` (sampled once a second between), only then the heap
 * after a full GC (and a heap snapshot, when asked).
 */
const reading = async (
  server: RunningServer,
  options: MemoryOptions,
  label: string,
  snapshot?: string,
): Promise<MemoryPoint> => {
  const start = Date.now()
  // The steady reading comes last, even if asked for before the settled one.
  const steadyMs = Math.max(options.steadyMs, options.settleMs)
  const rss = () => server.process.rssBytes() / MiB
  const until = async (ms: number) => sleep(Math.max(0, start + ms - Date.now()))
  const rssSeriesMiB = [rss()]
  let rssMiB = Number.NaN
  let docsLoadedSettled = Number.NaN
  for (let at = 1_000; ; at += 1_000) {
    // The settle reading in its place in the series; the probe records smaps there when asked.
    if (Number.isNaN(rssMiB) && at > options.settleMs) {
      await until(options.settleMs)
      rssMiB = rss()
      docsLoadedSettled = await docsLoaded(server)
      await server.memory({ collect: false, label: `${label}-settled` })
    }
    if (at > steadyMs) break
    await until(at)
    rssSeriesMiB.push(rss())
  }
  await until(steadyMs)
  const rssSteadyMiB = rss()
  const docsLoadedSteady = await docsLoaded(server)
  const m: MemoryReading = await server.memory({ snapshot, label })
  return {
    rssMiB,
    rssSteadyMiB,
    docsLoaded: docsLoadedSettled,
    docsLoadedSteady,
    rssSeriesMiB,
    heapUsedMiB: m.afterGc.heapUsed / MiB,
    externalMiB: m.afterGc.external / MiB,
  }
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

/** Opens `names` with every client of each (the first sends `seed`), each synced; one connection per client slot when `multiplexed`. */
const openAll = async (
  server: RunningServer,
  client: ClientKind,
  names: string[],
  seed: Uint8Array,
  options: MemoryOptions,
  multiplexed: boolean,
): Promise<BenchClient[]> => {
  const clients: BenchClient[] = []
  if (multiplexed) {
    if (client.openMany === undefined) throw new Error(`${client.name} cannot multiplex`)
    for (let c = 0; c < options.clientsPerDoc; c++) {
      const slot = await client.openMany(server.url, names, c === 0 ? seed : undefined)
      await withTimeout(Promise.all(slot.map((x) => x.synced())), options.timeout, 'the documents to sync')
      clients.push(...slot)
    }
    return clients
  }
  const perDoc = await inBatches(names, options.concurrency, async (name) => {
    const mine: BenchClient[] = []
    for (let c = 0; c < options.clientsPerDoc; c++) {
      const x = await client.open(server.url, name, c === 0 ? seed : undefined)
      mine.push(x)
      await withTimeout(x.synced(), options.timeout, `${name} to sync`)
    }
    return mine
  })
  return perDoc.flat()
}

/** Every document stored before memory is read, so no server is caught mid-write. */
const persisted = (server: RunningServer, names: string[], want: ReturnType<typeof svObject>, o: MemoryOptions) =>
  withTimeout(
    inBatches(names, o.concurrency, (name) => server.drain(name, want)),
    o.timeout,
    'the documents to persist',
  )

/** Every client leaves, then the documents unload (converge: its gauge back at `loadedBefore`). */
const leaveAll = async (server: RunningServer, clients: BenchClient[], loadedBefore: number, o: MemoryOptions) => {
  await inBatches(clients, o.concurrency, (c) => c.close())
  await sleep(o.unloadDelayMs)
  await convergeUnloaded(server, loadedBefore, o.timeout)
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
      const loadedBefore = await docsLoaded(server)
      // Warm-up: other documents through the same clients, opened, stored and unloaded.
      if (options.warmupDocs > 0) {
        const warm = Array.from({ length: options.warmupDocs }, (_, i) => `memory-warmup-${i}`)
        const warmClients = await openAll(server, client, warm, seed, options, multiplexed)
        await persisted(server, warm, want, options)
        await leaveAll(server, warmClients, loadedBefore, options)
      }
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
      if (before !== undefined) await server.memory({ snapshot: before, label: 'snapshot' })
      const baseline = await reading(server, options, 'baseline')
      const t0 = epochNow()
      const watch = new CoreLoadWatch([server.process.pid])
      const clients = await openAll(server, client, names, seed, options, multiplexed)
      const openedMs = epochNow() - t0
      const cores = watch.stop()
      await persisted(server, names, want, options)
      const open = await reading(server, options, 'open', snapshot(''))
      await leaveAll(server, clients, loadedBefore, options)
      const unloaded = await reading(server, options, 'unloaded', snapshot('-unloaded'))
      // Second round: as many other documents, opened and unloaded; then the heap only.
      let unloadedAgainHeapMiB = Number.NaN
      if (options.againDocs > 0) {
        const again = Array.from({ length: options.againDocs }, (_, i) => `memory-again-${i}`)
        const againClients = await openAll(server, client, again, seed, options, multiplexed)
        await persisted(server, again, want, options)
        await leaveAll(server, againClients, loadedBefore, options)
        await sleep(options.settleMs)
        const m = await server.memory({ snapshot: snapshot('-unloaded-again'), label: 'unloaded-again' })
        unloadedAgainHeapMiB = m.afterGc.heapUsed / MiB
      }
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
        steadyPerDocKiB: perDoc(open.rssSteadyMiB - baseline.rssSteadyMiB),
        heapPerDocKiB: perDoc(open.heapUsedMiB - baseline.heapUsedMiB),
        externalPerDocKiB: perDoc(open.externalMiB - baseline.externalMiB),
        rssLeftPerDocKiB: perDoc(unloaded.rssSteadyMiB - baseline.rssSteadyMiB),
        heapLeftPerDocKiB: perDoc(unloaded.heapUsedMiB - baseline.heapUsedMiB),
        unloadedAgainHeapMiB,
        heapLeftAgainPerDocKiB: ((unloadedAgainHeapMiB - unloaded.heapUsedMiB) * 1024) / options.againDocs,
        openedPerSecond: (options.docs * 1000) / openedMs,
        unloadDelayMs: options.unloadDelayMs,
        warmupDocs: options.warmupDocs,
        againDocs: options.againDocs,
        settleMs: options.settleMs,
        steadyMs: options.steadyMs,
        cores,
        diagnostics: memoryDiagnostics(),
      }
    },
    { unloadDelayMs: options.unloadDelayMs },
  )
