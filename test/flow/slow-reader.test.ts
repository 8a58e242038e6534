import { DEFAULT_FLOW_OPTIONS } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { peakRssBytes } from '../bench/lib/process-stats.js'
import { RelayProcess } from '../helpers/relay-process.js'
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
/**
 * What a reader that stopped reading may add to the relay's peak RSS: its socket queue
 * (slowReaderBytes, 1 MiB, plus the message that crossed it) and working-set noise (measured
 * +9 to +19 MiB on a shared machine). A relay that queued every update for it adds the
 * phase's 48 MiB less what the kernel's socket buffers hold (measured +44.6 MiB).
 */
const SLOW_READER_RSS_BOUND = 24 * MiB

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
  it('adds less than the documented bound to relay RSS, does not delay the other readers, and gets the latest state when it reads again', async () => {
    const relay = await RelayProcess.start()
    cleanup.push(() => relay.dispose())
    const pid = relay.child?.pid as number
    const open = async (name: string) => {
      const client = stockClient(relay.url, 'slow', { maxBackoffTime: 100 })
      cleanup.push(() => client.destroy())
      await synced(client.provider)
      return { name, client }
    }
    const { client: writer } = await open('writer')
    const { client: fast } = await open('fast')

    // Phase 1: no slow reader. The relay's peak RSS and the fast reader's latency under this load.
    // The peak (VmHWM) depends on when the collector runs during ~48 MiB of garbage per phase,
    // so the load runs twice first: the peak it settles at is the baseline, not one GC's luck.
    await writePhase(writer, fast, 'w')
    const before = await writePhase(writer, fast, 'a')
    const peakBefore = peakRssBytes(pid)

    // Phase 2: the same load with a reader that stops reading its socket.
    const { client: slow } = await open('slow')
    socketOf(slow).pause()
    const during = await writePhase(writer, fast, 'b')
    const peakDuring = peakRssBytes(pid)

    const p99Before = percentile(before, 99)
    const p99During = percentile(during, 99)
    console.log(
      `[slow reader] relay peak RSS ${(peakBefore / MiB).toFixed(1)} MiB without, ${(peakDuring / MiB).toFixed(1)} MiB with a reader that stopped reading (bound +${SLOW_READER_RSS_BOUND / MiB} MiB, slowReaderBytes ${DEFAULT_FLOW_OPTIONS.slowReaderBytes / MiB} MiB); fast reader p50/p99 ${percentile(before, 50).toFixed(1)}/${p99Before.toFixed(1)} ms without, ${percentile(during, 50).toFixed(1)}/${p99During.toFixed(1)} ms with`,
    )
    expect(peakDuring - peakBefore).toBeLessThan(SLOW_READER_RSS_BOUND)
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
