import { DEFAULT_FLOW_OPTIONS } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { HEAP_PROBE_ARGS, type HeapReading, RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import { type StockClient, stockClient, synced } from './stock-client.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** Each phase writes UPDATES values of VALUE_BYTES to one map key: 48 MiB through the relay, a small document. */
const UPDATES = 768
const VALUE_BYTES = 64 * 1024
const BATCH = 16
const MiB = 1024 * 1024
const MERGE_OFF = ['--max-merged-update-bytes', '0']
/**
 * What a reader that stopped reading may add to the relay's live memory (heap and buffers
 * after a full collection, so GC timing plays no part): what the policy lets queue on its
 * socket, slowReaderBytes (1 MiB) plus the message that crossed it (64 KiB), and the reader's
 * connection and session (well under 1 MiB). Measured +1.0 MiB; with the policy off
 * (`--slow-reader-bytes` 1 GiB) the relay queues what the kernel's socket buffers do not
 * take: +44 MiB.
 */
const SLOW_READER_LIVE_BOUND = DEFAULT_FLOW_OPTIONS.slowReaderBytes + VALUE_BYTES + 2 * MiB

/**
 * The relay's live heap plus buffers outside it (socket queues are Buffers), the least of
 * five readings 200 ms apart: transient work (a background compaction reading the log that
 * the phase wrote) passes between readings, a queue kept for a reader that stopped does not.
 */
const liveBytes = async (relay: RelayProcess): Promise<number> => {
  let least = Number.POSITIVE_INFINITY
  for (let i = 0; i < 5; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 200))
    const r: HeapReading = await relay.heapAfterGc()
    least = Math.min(least, r.heapUsed + r.external)
  }
  return least
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** The underlying TCP socket of a stock client's `ws` WebSocket. */
const socketOf = (client: StockClient) =>
  (client.provider.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket

/**
 * The writer sets the map's key to `<phase>:<i>:` + padding, in batches; the fast reader
 * notes when each value arrives. Returns the delivery latencies (ms).
 */
const writePhase = async (writer: StockClient, reader: StockClient, phase: string): Promise<number[]> => {
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  const map = reader.doc.getMap<string>('m')
  const observe = () => {
    const value = map.get('v') ?? ''
    const key = value.slice(0, value.indexOf(':', value.indexOf(':') + 1))
    const sent = sentAt.get(key)
    if (sent !== undefined) {
      latencies.push(performance.now() - sent)
      sentAt.delete(key)
    }
  }
  map.observe(observe)
  const padding = 'x'.repeat(VALUE_BYTES)
  const wmap = writer.doc.getMap<string>('m')
  for (let i = 0; i < UPDATES; i += BATCH) {
    for (let j = i; j < i + BATCH; j++) {
      // A map key keeps only its last value: the relay's document stays small (gc).
      sentAt.set(`${phase}:${j}`, performance.now())
      wmap.set('v', `${phase}:${j}:${padding}`)
    }
    const last = `${phase}:${i + BATCH - 1}:`
    await waitFor(() => (map.get('v') ?? '').startsWith(last), {
      timeout: 30_000,
      what: `the fast reader to get ${last}`,
    })
  }
  map.unobserve(observe)
  return latencies
}

describe('a reader that stops reading', () => {
  it('adds no more than slowReaderBytes and one message to the relay heap and buffers, does not delay the other readers, and gets the latest state when it reads again', async () => {
    // Every update forwarded on its own: merged into runs (maxMergedUpdateBytes), the values
    // a run overwrites are collected before it is sent, and far less than 48 MiB would
    // travel towards the reader that stopped.
    const relay = await RelayProcess.start({ nodeArgs: HEAP_PROBE_ARGS, extraArgs: MERGE_OFF })
    cleanup.push(() => relay.dispose())
    const open = async (name: string) => {
      const client = stockClient(relay.url, 'slow', { maxBackoffTime: 100 })
      cleanup.push(() => client.destroy())
      await synced(client.provider)
      return { name, client }
    }
    const { client: writer } = await open('writer')
    const { client: fast } = await open('fast')

    // Phase 1: no slow reader. The fast reader's latency under this load, then the relay's
    // live memory with the slow reader connected and synced but not yet reading.
    await writePhase(writer, fast, 'w')
    const before = await writePhase(writer, fast, 'a')
    const { client: slow } = await open('slow')
    const liveBefore = await liveBytes(relay)

    // Phase 2: the same load with a reader that stops reading its socket.
    socketOf(slow).pause()
    const during = await writePhase(writer, fast, 'b')
    const liveDuring = await liveBytes(relay)

    const p99Before = percentile(before, 99)
    const p99During = percentile(during, 99)
    console.log(
      `[slow reader] relay heap + buffers after GC ${(liveBefore / MiB).toFixed(1)} MiB before, ${(liveDuring / MiB).toFixed(1)} MiB after 48 MiB written past a reader that stopped reading (bound +${(SLOW_READER_LIVE_BOUND / MiB).toFixed(2)} MiB, slowReaderBytes ${DEFAULT_FLOW_OPTIONS.slowReaderBytes / MiB} MiB); fast reader p50/p99 ${percentile(before, 50).toFixed(1)}/${p99Before.toFixed(1)} ms without, ${percentile(during, 50).toFixed(1)}/${p99During.toFixed(1)} ms with`,
    )
    expect(liveDuring - liveBefore).toBeLessThan(SLOW_READER_LIVE_BOUND)
    // "A few ms" on a quiet machine; on a shared one, latency noise scales with the load.
    expect(p99During).toBeLessThan(p99Before * 2 + 25)
    expect(slow.closes).toEqual([])

    // It reads again: it catches up to the writer's last value (the relay sent one diff).
    socketOf(slow).resume()
    const last = (writer.doc.getMap<string>('m').get('v') ?? '').slice(0, 12)
    await waitFor(() => (slow.doc.getMap<string>('m').get('v') ?? '').startsWith(last), {
      timeout: 30_000,
      what: 'the slow reader to catch up',
    })
    expect((slow.doc as Y.Doc).getMap('m').get('v')).toBe(writer.doc.getMap('m').get('v'))
  }, 180_000)
})
