import { CloseCode } from '@converge/core'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { adminArgs, counter, postUpdate } from '../helpers/admin.js'
import { RawPeer } from '../helpers/raw-peer.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { nodeReplica } from '../helpers/replicas.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** A document whose one client has `ranges` separate deleted ranges. */
const manyDeletions = (ranges: number): { update: Uint8Array; client: number } => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  text.insert(0, 'ab'.repeat(ranges))
  for (let i = ranges - 1; i >= 0; i--) text.delete(2 * i, 1)
  return { update: Y.encodeStateAsUpdate(doc), client: doc.clientID }
}

/** A state vector of `entries` clients. */
const hugeStateVector = (entries: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries)
  for (let i = 0; i < entries; i++) {
    encoding.writeVarUint(e, i + 2 ** 35)
    encoding.writeVarUint(e, 1000)
  }
  return encoding.toUint8Array(e)
}

const deleteDigests = (client: number, bits: number, chunks: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, bits)
  encoding.writeVarUint8Array(e, new Uint8Array(chunks * 8).fill(7))
  return encoding.toUint8Array(e)
}

/**
 * A sanity bound only (this machine may be loaded): what shows the defence is the close
 * code and reason, given before the work is done. Before, the relay answered these after
 * blocking 3.7 s (bits = 0, 15k ranges) and 1.2 s (state vector) on a quiet machine.
 */
const BOUND_MS = 10_000

const elapsed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now()
  const value = await run()
  return [value, performance.now() - started]
}

describe('a few crafted bytes cannot freeze the relay', () => {
  it('sync-step1-deletes with bits = 0, digests of 4096 chunks and a 1.5 M-entry state vector are answered or closed at once, on both framings, and the relay keeps serving others', async () => {
    const relay = await RelayProcess.start({ extraArgs: adminArgs })
    cleanup.push(() => relay.dispose())
    const big = manyDeletions(15_000)
    const posted = await postUpdate(relay, 'big', big.update)
    expect(posted).toBe(204)

    // Honest readers: a stock y-websocket client and a converge replica on another document.
    const stockDoc = new Y.Doc()
    const stock = new WebsocketProvider(relay.url, 'other', stockDoc, { WebSocketPolyfill: WebSocket as never })
    cleanup.push(() => {
      stock.destroy()
      stockDoc.destroy()
    })
    const writer = await nodeReplica(relay.url)
    cleanup.push(() => writer.dispose())
    const wdoc = await writer.replica.open('other')
    await writer.replica.whenSynced('other', { timeout: 10_000 })

    // converge.v1, bits = 0: 15k ranges × every one-clock chunk used to block for seconds.
    const a = await RawPeer.mux(relay.url)
    const [closedA, msA] = await elapsed(() => {
      a.send({
        type: 'sync-step1-deletes',
        doc: 'big',
        stateVector: new Uint8Array([0]),
        deleteDigests: deleteDigests(big.client, 0, 1),
      })
      return a.whenClosed()
    })
    expect(closedA.code).toBe(CloseCode.malformed)
    expect(closedA.reason).toMatch(/malformed sync step 1/)
    expect(msA).toBeLessThan(BOUND_MS)

    // converge.v1, honest bits and as many chunks as an encoder may write: answered, in one walk.
    const b = await RawPeer.mux(relay.url)
    const [step2, msB] = await elapsed(() => {
      b.send({
        type: 'sync-step1-deletes',
        doc: 'big',
        stateVector: new Uint8Array([0]),
        deleteDigests: deleteDigests(big.client, 6, 4096),
      })
      return b.until((m) => m.type === 'sync-step2', 'the step 2')
    })
    expect(msB).toBeLessThan(BOUND_MS)
    const check = new Y.Doc()
    Y.applyUpdate(check, (step2 as { update: Uint8Array }).update)
    expect(check.getText('text').length).toBe(15_000)
    b.close()

    // A state vector of 1.5 M entries (11 MiB), on both framings: refused before it is decoded.
    const sv = hugeStateVector(1_500_000)
    expect(sv.length).toBeGreaterThan(10 * 1024 * 1024)
    const c = await RawPeer.mux(relay.url)
    const [closedC, msC] = await elapsed(() => {
      c.send({ type: 'sync-step1', doc: 'big', stateVector: sv })
      return c.whenClosed()
    })
    expect(closedC.code).toBe(CloseCode.limitExceeded)
    expect(c.received.some((m) => m.type === 'error' && m.code === 'CONVERGE_LIMIT_EXCEEDED')).toBe(true)
    const d = await RawPeer.yws(relay.url, 'big')
    const [closedD, msD] = await elapsed(() => {
      d.send({ type: 'sync-step1', doc: 'big', stateVector: sv })
      return d.whenClosed()
    })
    expect(closedD.code).toBe(CloseCode.limitExceeded)
    expect(closedC.reason).toMatch(/state vector of 1500000 entries/)
    expect(msC).toBeLessThan(BOUND_MS)
    expect(msD).toBeLessThan(BOUND_MS)
    expect(
      await counter(relay, 'converge_errors_total', (l) => l.includes('CONVERGE_LIMIT_EXCEEDED')),
    ).toBeGreaterThanOrEqual(2)

    // Everyone else was served throughout.
    wdoc.getText('text').insert(0, 'still served')
    await waitFor(() => stockDoc.getText('text').toString() === 'still served', {
      what: 'the stock client to see the edit',
    })
    expect(relay.alive).toBe(true)
  })
})
