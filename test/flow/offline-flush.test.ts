import { DEFAULT_FLOW_OPTIONS, DEFAULT_PEER_OPTIONS, type Peer } from '@converge/core'
import { websocket } from '@converge/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import { OFFLINE_FLUSH_DEFAULTS } from '../bench/flow/offline-flush.js'
import { peakRssBytes, rssBytes } from '../bench/lib/process-stats.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { nodeReplica } from '../helpers/replicas.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/**
 * The scale of this test: 25,000 queued updates of 800 bytes each (19 MiB, above the 16 MiB
 * maxMessageBytes, so one step 2 could not carry it), so it runs well under a minute on a
 * shared machine. The benchmark (test/bench/flow, `bench:flow -- --scenarios offline-flush`)
 * runs BENCH_UPDATES; CONVERGE_FLUSH_UPDATES=<n> runs this test at another scale.
 */
const UPDATES = Number(process.env.CONVERGE_FLUSH_UPDATES ?? 25_000)
const UPDATE_BYTES = 800
const BENCH_UPDATES = OFFLINE_FLUSH_DEFAULTS.updates
/**
 * Relay peak RSS growth allowed while it takes the queue: its document (the queue's
 * content, as Yjs items and strings), LevelDB's memtables and native allocations, and V8
 * heap headroom (garbage of the decoded parts), plus at most maxInFlightBytes (8 MiB) of
 * parts in flight. Measured: 12-15 × the queue here (25,000 updates of 800 bytes), 12 ×
 * in bench:flow (100,000 updates of 300 bytes: +334 MiB for 28.6 MiB); the bound leaves
 * room for a late garbage collection on a loaded machine.
 */
const RSS_BOUND_PER_QUEUED_BYTE = 24
const MiB = 1024 * 1024

describe('a replica with a large offline queue', () => {
  it(`reconnects and flushes ${UPDATES} queued updates (${((UPDATES * UPDATE_BYTES) / MiB).toFixed(1)} MiB) without being closed, in parts below maxMessageBytes, with relay memory bounded`, async () => {
    const relay = await RelayProcess.start()
    cleanup.push(() => relay.dispose())
    const pid = relay.child?.pid as number
    const writer = await nodeReplica(undefined)
    cleanup.push(() => writer.dispose())
    const doc = await writer.replica.open('offline')
    const text = doc.getText('text')
    const block = 'q'.repeat(UPDATE_BYTES - 8)
    // Offline: every insert is its own update, stored locally; each at the start, so no two
    // merge into one struct (appending at the end would make one struct of them all).
    for (let i = 0; i < UPDATES; i++) text.insert(0, `${String(i).padStart(8, '0')}${block}`)
    expect(writer.replica.status('offline').unsaved).toBe(UPDATES)
    const baseline = rssBytes(pid)

    const peer: Peer = writer.replica.connect(websocket(relay.url), { backoff: { initialDelay: 50, maxDelay: 500 } })
    const closes: string[] = []
    peer.on('status', (status) => {
      if (status !== 'open' && peer.lastClose !== undefined)
        closes.push(`${peer.lastClose.code} ${peer.lastClose.reason}`)
    })
    const started = performance.now()
    await writer.replica.whenSaved('offline', { timeout: 120_000 })
    const savedAfter = performance.now() - started
    const flushPeak = peakRssBytes(pid) - baseline
    // Flushed on the one connection it opened: never closed, by either side.
    expect(closes).toEqual([])
    expect(peer.lastClose).toBeUndefined()
    expect(peer.status).toBe('open')

    // A fresh replica reads the whole text back from the relay.
    const reader = await nodeReplica(relay.url)
    cleanup.push(() => reader.dispose())
    const copy = await reader.replica.open('offline')
    await waitFor(() => copy.getText('text').length === text.length, {
      timeout: 60_000,
      what: 'the reader to get the whole text',
    })
    expect(copy.getText('text').toString()).toBe(text.toString())

    const growth = peakRssBytes(pid) - baseline
    const queued = UPDATES * UPDATE_BYTES
    console.log(
      `[offline flush] (the benchmark runs ${BENCH_UPDATES}) saved ${savedAfter.toFixed(0)} ms after connecting; ${UPDATES} updates, ${(queued / MiB).toFixed(1)} MiB queued, sent in parts of ≤ ${DEFAULT_FLOW_OPTIONS.maxSyncChunkBytes / MiB} MiB; relay RSS ${(baseline / MiB).toFixed(1)} MiB before, peak +${(flushPeak / MiB).toFixed(1)} MiB while flushing, +${(growth / MiB).toFixed(1)} MiB after a reader synced`,
    )
    expect(flushPeak).toBeLessThan(queued * RSS_BOUND_PER_QUEUED_BYTE)
    expect(DEFAULT_FLOW_OPTIONS.maxSyncChunkBytes).toBeLessThan(DEFAULT_PEER_OPTIONS.maxMessageBytes)
  }, 240_000)
})
