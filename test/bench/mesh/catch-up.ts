/**
 * Catch-up after a partition (issue 4): relays A and B peer through a TCP proxy that
 * counts bytes. The link is cut, a client on A types K edits into a document B already
 * had, and the link is restored. Measured: bytes on the wire until B holds every missed
 * update, and until the link is quiet again, against the size of what B missed — the sum
 * of the missed updates as the writer produced them, and Y.encodeStateAsUpdate(docA, svB).
 */
import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import * as Y from 'yjs'
import { svObject } from '../lib/state-vector.js'
import { TcpProxy } from '../lib/tcp-proxy.js'
import { applyPatches, finalStateOf, type Trace } from '../lib/trace.js'
import { sleep, waitFor, withTimeout, yieldToIo } from '../lib/wait.js'
import { MeshRelay } from './mesh-relay.js'
import { type LedgerLine, WireLedger } from './wire-ledger.js'

export interface CatchUpOptions {
  /** Edits B misses, one variant each, on a document of its own. Default [10, 100, 1_000, 10_000]. */
  missedEdits: number[]
  /** Trace edits in each document before the partition. Default 2_000. */
  baseEdits: number
  /**
   * Edits missed in the large-document variant, whose document holds the whole trace
   * before the partition (its delete set is ~10 KiB); 0 skips it. Default 100.
   */
  largeDocEdits: number
  /** Documents added to both relays (in sync, unchanged) for the inventory variant; 0 skips it. Default 1_000. */
  backgroundDocs: number
  /** Edits missed in the inventory variant. Default 100. */
  backgroundVariantEdits: number
  /** A link with no bytes for this long is quiet (ends a count), in ms. Default 500. */
  quietMs: number
  /** Longest wait for any step, in ms. Default 120_000. */
  timeout: number
}

export const CATCH_UP_DEFAULTS: CatchUpOptions = {
  missedEdits: [10, 100, 1_000, 10_000],
  baseEdits: 2_000,
  largeDocEdits: 100,
  backgroundDocs: 1_000,
  backgroundVariantEdits: 100,
  quietMs: 500,
  timeout: 120_000,
}

export interface CatchUpResult {
  /** Documents on the relays when the link came back. */
  docsOnRelays: number
  /** Bytes of the document's state before the partition. */
  baseBytes: number
  missedEdits: number
  /** Sum of the byte lengths of the missed updates, as the writer emitted them (V1). */
  sumOfUpdates: number
  /** Y.encodeStateAsUpdate(docA, svB).length: the missed state as one update (V1). */
  diffBytes: number
  /** Bytes both ways from restore until B held everything. */
  wireUntilCaughtUp: number
  /** Bytes both ways from restore until the link was quiet. */
  wireTotal: number
  /** From restore until B's reconnection reached the proxy, ms (reconnect backoff). */
  reconnectMs: number
  /** From that reconnection until B held everything, ms. */
  catchUpMs: number
  /** Traffic by kind after the restore; up = B → A (B dials), down = A → B. */
  breakdown: Array<{ kind: string; up?: LedgerLine; down?: LedgerLine; bytes: number }>
}

/** Resolves once no byte crossed the proxy for `quietMs`. */
const quiet = (proxy: TcpProxy, quietMs: number, timeout: number) =>
  waitFor(() => performance.now() - proxy.lastActivity >= quietMs, {
    timeout,
    interval: 20,
    what: 'the mesh link to go quiet',
  })

/** Types trace transactions [from, to) into `doc`, one update each, yielding to I/O now and then. */
const typeEdits = async (doc: Y.Doc, trace: Trace, from: number, to: number) => {
  const text = doc.getText('text')
  for (let i = from; i < to; i++) {
    doc.transact(() => applyPatches(text, trace.txns[i % trace.txns.length] ?? []))
    if ((i - from) % 50 === 49) await yieldToIo()
  }
}

/** A converge client of relay `url` (in-memory store), for writing. */
const writerOn = (url: string) => {
  const replica = new Replica({ store: new MemoryStore() })
  replica.connect(websocket(url))
  return replica
}

export const runCatchUp = async (trace: Trace, options: CatchUpOptions, log: (s: string) => void) => {
  const a = await MeshRelay.start('A')
  const ledger = new WireLedger()
  let connectedAt = Number.NaN
  const proxy = await TcpProxy.start(
    { host: '127.0.0.1', port: a.port },
    {
      onChunk: ledger.onChunk,
      onConnection: () => {
        if (Number.isNaN(connectedAt)) connectedAt = performance.now()
      },
    },
  )
  const b = await MeshRelay.start('B', [`ws://127.0.0.1:${proxy.port}`])
  const writer = writerOn(a.url)
  const results: CatchUpResult[] = []
  try {
    await waitFor(() => proxy.connections > 0, { timeout: options.timeout, what: 'B to dial A' })
    let docsOnRelays = 0

    const variant = async (doc: string, missed: number, wholeTrace = false): Promise<CatchUpResult> => {
      const ydoc = await writer.open(doc)
      await writer.whenSynced(doc, { timeout: options.timeout })
      if (wholeTrace) Y.applyUpdate(ydoc, finalStateOf(trace))
      else await typeEdits(ydoc, trace, 0, options.baseEdits)
      const baseBytes = Y.encodeStateAsUpdate(ydoc).length
      const svBase = Y.encodeStateVector(ydoc)
      await b.waitForState(doc, svObject(svBase), options.timeout)
      docsOnRelays++
      await quiet(proxy, options.quietMs, options.timeout)

      proxy.cut()
      let sumOfUpdates = 0
      const count = (u: Uint8Array) => {
        sumOfUpdates += u.length
      }
      ydoc.on('update', count)
      // On the whole-trace document, the trace's first edits (small positions) stay valid.
      const from = wholeTrace ? 0 : options.baseEdits
      await typeEdits(ydoc, trace, from, from + missed)
      ydoc.off('update', count)
      const want = svObject(Y.encodeStateVector(ydoc))
      await a.waitForState(doc, want, options.timeout)
      const diffBytes = Y.encodeStateAsUpdate(ydoc, svBase).length

      ledger.reset()
      proxy.resetCounters()
      connectedAt = Number.NaN
      const restoredAt = performance.now()
      proxy.restore()
      const caughtUpAt = await b.waitForState(doc, want, options.timeout)
      const wireUntilCaughtUp = proxy.bytes.up + proxy.bytes.down
      await quiet(proxy, options.quietMs, options.timeout)
      await writer.close(doc)
      return {
        docsOnRelays,
        baseBytes,
        missedEdits: missed,
        sumOfUpdates,
        diffBytes,
        wireUntilCaughtUp,
        wireTotal: proxy.bytes.up + proxy.bytes.down,
        reconnectMs: connectedAt - restoredAt,
        catchUpMs: caughtUpAt - connectedAt,
        breakdown: ledger.summary(),
      }
    }

    for (const missed of options.missedEdits) {
      log(`catch-up: ${missed} missed edits …`)
      results.push(await variant(`catch-up-${missed}`, missed))
    }
    if (options.largeDocEdits > 0) {
      log(`catch-up: ${options.largeDocEdits} missed edits on the whole-trace document …`)
      results.push(await variant('catch-up-large', options.largeDocEdits, true))
    }
    if (options.backgroundDocs > 0) {
      log(`catch-up: adding ${options.backgroundDocs} documents to both relays …`)
      await addBackgroundDocs(a, b, options)
      docsOnRelays += options.backgroundDocs
      await quiet(proxy, options.quietMs, options.timeout)
      log(`catch-up: ${options.backgroundVariantEdits} missed edits with ${docsOnRelays + 1} documents …`)
      results.push(await variant('catch-up-inventory', options.backgroundVariantEdits))
    }
    return results
  } finally {
    await writer.destroy()
    await proxy.close()
    await Promise.all([a.dispose(), b.dispose()])
  }
}

/** Most documents one benchmark client opens at once (a relay allows 1_000 per connection). */
const DOCS_PER_CLIENT = 250

const addBackgroundDocs = async (a: MeshRelay, b: MeshRelay, options: CatchUpOptions) => {
  const names = Array.from({ length: options.backgroundDocs }, (_, i) => `background-${String(i).padStart(5, '0')}`)
  for (let i = 0; i < names.length; i += DOCS_PER_CLIENT) {
    const client = writerOn(a.url)
    const chunk = names.slice(i, i + DOCS_PER_CLIENT)
    await Promise.all(
      chunk.map(async (name) => {
        const doc = await client.open(name)
        doc.getText('text').insert(0, name)
        await client.whenSaved(name, { timeout: options.timeout })
      }),
    )
    await client.destroy()
  }
  await withTimeout(
    (async () => {
      for (;;) {
        const have = new Set(await b.docs())
        if (names.every((n) => have.has(n))) return
        await sleep(100)
      }
    })(),
    options.timeout,
    'B to receive the background documents',
  )
}
