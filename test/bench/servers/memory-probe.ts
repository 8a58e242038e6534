/**
 * Preloaded into every server under test (node --expose-gc --import this …): answers
 * `memory` requests on the IPC channel with the process's memory, read before and after a
 * full garbage collection, so heap figures compare live objects rather than GC timing.
 * It only reads, and only when asked; it does not keep the process alive.
 */
import { appendFileSync, readFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'

/** What a reading does besides reading memoryUsage (the request's options). */
export interface MemoryAsk {
  /** When set: also write a heap snapshot (after the GC) to this path. */
  snapshot?: string
  /** Collect garbage (two full GCs) and read again. Default true; false only reads (and records the detail). */
  collect?: boolean
  /** Names the reading in BENCH_MEMORY_DETAIL_FILE. */
  label?: string
}

export interface MemoryRequest extends MemoryAsk {
  type: 'memory'
  id: number
}

export interface MemoryReading {
  /** process.memoryUsage() as the server left it, bytes. */
  before: NodeJS.MemoryUsage
  /** process.memoryUsage() after two full collections, bytes (same as before without --expose-gc or with `collect: false`). */
  afterGc: NodeJS.MemoryUsage
  /** Whether a collection was forced (the server runs with --expose-gc). */
  collected: boolean
}

const collect = async (): Promise<boolean> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return false
  gc()
  // Finalizers and weak callbacks run between the two.
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  return true
}

/**
 * Resident KiB per kind of mapping from /proc/self/smaps: `[heap]` (malloc's main arena),
 * named files (code, shared libraries), and anonymous mappings by size (V8 pages are
 * 256 KiB, glibc thread arenas reserve 64 MiB, thread stacks 8 MiB).
 */
const smapsSummary = (): Record<string, number> => {
  const out: Record<string, number> = {}
  let name = ''
  let size = 0
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head !== null) {
      size = (Number.parseInt(head[2] ?? '0', 16) - Number.parseInt(head[1] ?? '0', 16)) / 1024
      const named = head[3] ?? ''
      name =
        named === ''
          ? `anon ${size >= 65536 ? '>=64MiB' : size >= 8192 ? '8-64MiB' : size >= 1024 ? '1-8MiB' : size >= 256 ? '256KiB-1MiB' : '<256KiB'}`
          : named.startsWith('/')
            ? 'files'
            : named
      continue
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss !== null) out[name] = (out[name] ?? 0) + Number(rss[1])
  }
  return out
}

/** BENCH_MEMORY_DETAIL_FILE: each reading also appends memoryUsage, V8 spaces and smaps there (JSON lines). */
const detail = (label: string, usage: NodeJS.MemoryUsage): void => {
  const file = process.env.BENCH_MEMORY_DETAIL_FILE
  if (file === undefined) return
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
  )
  const line = {
    pid: process.pid,
    argv: process.argv.slice(1, 3),
    label,
    at: Date.now(),
    usage,
    spaces,
    smaps: smapsSummary(),
  }
  appendFileSync(file, `${JSON.stringify(line)}\n`)
  // The whole of smaps too, for a closer look (one file per reading).
  appendFileSync(`${file}.${process.pid}.${line.at}.${label}.smaps`, readFileSync('/proc/self/smaps', 'utf8'))
}

/**
 * BENCH_HEAP_SAMPLING_FILE: sample allocations from the start, keeping the samples of objects
 * that survived the young generation (a major GC collected them, or they are still live), and
 * write the profile at each reading (`<file>.<n>.heapprofile`): where old-space garbage comes from.
 * With BENCH_HEAP_SAMPLING_MINOR=1 the objects a scavenge collected are kept too: every
 * allocation, the allocation volume of a phase (test/bench/lib/heap-profile-summary.ts).
 */
const sampling = process.env.BENCH_HEAP_SAMPLING_FILE
let samplingSession: Session | undefined
let samples = 0
if (sampling !== undefined) {
  samplingSession = new Session()
  samplingSession.connect()
  samplingSession.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_SAMPLING_MINOR === '1',
  })
}
const writeSamples = (): void => {
  if (samplingSession === undefined || sampling === undefined) return
  const n = samples++
  samplingSession.post('HeapProfiler.getSamplingProfile', (err, res) => {
    if (err === null) appendFileSync(`${sampling}.${n}.heapprofile`, JSON.stringify(res.profile))
  })
}

const send = process.send?.bind(process)
if (send !== undefined) {
  process.on('message', (m: MemoryRequest) => {
    if (m?.type !== 'memory') return
    const before = process.memoryUsage()
    const label = m.label ?? 'reading'
    detail(m.collect === false ? label : `${label}-before-gc`, before)
    if (m.collect === false) {
      send({ id: m.id, before, afterGc: before, collected: false })
      return
    }
    writeSamples()
    collect().then(
      (collected) => {
        const afterGc = process.memoryUsage()
        detail(`${label}-after-gc`, afterGc)
        if (m.snapshot !== undefined) writeHeapSnapshot(m.snapshot)
        send({ id: m.id, before, afterGc, collected })
      },
      (err) => send({ id: m.id, error: String(err) }),
    )
  })
  // Listening to 'message' refs the channel; the server must still exit on its own.
  ;(process.channel as { unref?: () => void } | undefined)?.unref?.()
}
