import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { stockRelay as relayOn } from '../../../test/helpers/memory-relay.js'
import { runSeeds } from '../../../test/helpers/seed.js'
import { SYNC, stockStep1, stockUpdate } from '../../../test/helpers/stock-frames.js'
import { waitFor } from '../../../test/helpers/wait.js'
import type { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261127)
const REPLAY = (seed: number) =>
  `CONVERGE_SEED=${seed} npx vitest run --config test/vitest.config.ts packages/core/src/cold-doc.test.ts`

/** A stock y-websocket client, in memory: a Y.Doc that syncs with y-protocols and applies whatever the relay sends. */
interface StockClient {
  readonly doc: Y.Doc
  /** Sends `update` as a y-protocols update message, as it is (gaps, duplicates and all). */
  send(update: Uint8Array): void
  close(): void
}

const stockClient = (net: MemoryNetwork, address: string, from: string, doc = new Y.Doc()): StockClient => {
  const transport = net.connector(address, from)()
  /** Updates sent before the connection opened, sent after its step 1. */
  const early: Uint8Array[] = []
  transport.attach({
    onOpen: () => {
      transport.send(stockStep1(doc))
      for (const update of early.splice(0)) transport.send(stockUpdate(update))
    },
    onMessage: (data) => {
      const d = decoding.createDecoder(data)
      if (decoding.readVarUint(d) !== SYNC) return
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, SYNC)
      syncProtocol.readSyncMessage(d, e, doc, 'relay')
      if (encoding.length(e) > 1) transport.send(encoding.toUint8Array(e))
    },
    onClose: () => undefined,
  })
  return {
    doc,
    send: (update) => {
      if (transport.state === 'open') transport.send(stockUpdate(update))
      else if (transport.state === 'connecting') early.push(update)
    },
    close: () => transport.close(),
  }
}

/** What a document holds, to compare two of them: content, state vector and deletions. */
const stateOf = (doc: Y.Doc) => ({
  json: JSON.stringify({ t: doc.getText('t').toJSON(), m: doc.getMap('m').toJSON(), a: doc.getArray('a').toJSON() }),
  sv: [...Y.decodeStateVector(Y.encodeStateVector(doc)).entries()].sort((x, y) => x[0] - y[0]),
})
const storedState = async (store: MemoryStore, name: string) => {
  const doc = new Y.Doc()
  const stored = await store.load(name)
  if (stored !== undefined) Y.applyUpdate(doc, stored)
  return stateOf(doc)
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

describe('documents served cold (relays)', () => {
  it('a document that only syncs (one client sends its state, a second syncs it) never builds a Y.Doc, and its answers are never stale after an update', async () => {
    const r = relayOn(true, SEED)
    cleanups.push(() => r.relay.destroy())
    r.serve('doc')
    const source = new Y.Doc()
    for (let i = 0; i < 2000; i++) source.getText('t').insert((i * 7) % (i + 1), `${i % 10}`)
    const a = stockClient(r.net, 'relay/doc', 'a', source)
    await waitFor(async () => JSON.stringify(await storedState(r.store, 'doc')) === JSON.stringify(stateOf(source)))
    const b = stockClient(r.net, 'relay/doc', 'b')
    await waitFor(() => b.doc.getText('t').toString() === source.getText('t').toString())
    // An update after the first answers: the next joiner's answer includes it (no stale kept answer).
    source.getText('t').insert(0, 'after')
    a.send(Y.encodeStateAsUpdate(source, Y.encodeStateVector(b.doc)))
    await waitFor(() => b.doc.getText('t').toString().startsWith('after'))
    const c = stockClient(r.net, 'relay/doc', 'c')
    await waitFor(() => c.doc.getText('t').toString() === source.getText('t').toString())
    source.getText('t').delete(0, 5)
    a.send(Y.encodeStateAsUpdate(source, Y.encodeStateVector(c.doc)))
    const d = stockClient(r.net, 'relay/doc', 'd')
    await waitFor(() => [b, c, d].every((x) => x.doc.getText('t').toString() === source.getText('t').toString()))
    expect(r.loads).toBe(0)
    expect(r.relay.loadedDoc('doc')).toBeUndefined()
    for (const x of [a, b, c, d]) x.close()
  })

  it('a document being edited builds its Y.Doc after coldWritesBeforeLoad updates taken cold, and every reader has every edit', async () => {
    const r = relayOn(true, SEED)
    cleanups.push(() => r.relay.destroy())
    r.serve('typed')
    const writer = stockClient(r.net, 'relay/typed', 'w')
    const reader = stockClient(r.net, 'relay/typed', 'r')
    const updates: Uint8Array[] = []
    writer.doc.on('update', (u: Uint8Array, origin: unknown) => origin !== 'relay' && updates.push(u))
    const typed = async (n: number) => {
      for (let i = 0; i < n; i++) {
        writer.doc.getText('t').insert(0, `${i % 10}`)
        writer.send(updates.shift() as Uint8Array)
      }
      await waitFor(() => reader.doc.getText('t').toString() === writer.doc.getText('t').toString())
    }
    // The default (16): that many are taken cold, one at a time (each waits for the reader).
    for (let i = 0; i < 16; i++) {
      await typed(1)
      expect(r.loads, `after ${i + 1}`).toBe(0)
    }
    await typed(1)
    expect(r.loads).toBe(1)
    expect(r.relay.loadedDoc('typed')?.getText('t').toString()).toBe(writer.doc.getText('t').toString())
    await typed(20)
    expect(JSON.stringify(await storedState(r.store, 'typed'))).toBe(JSON.stringify(stateOf(writer.doc)))
    writer.close()
    reader.close()
  })

  it('a cold answer larger than maxSyncChunkBytes goes in parts, and every joiner ends with the whole document; no Y.Doc is built', async () => {
    const r = relayOn(true, SEED)
    cleanups.push(() => r.relay.destroy())
    r.net.listen('relay/big', (t) => r.relay.accept(t, { framing: { yWebsocketDoc: 'big' }, maxSyncChunkBytes: 4096 }))
    const source = new Y.Doc()
    const other = new Y.Doc()
    for (let i = 0; i < 3000; i++) source.getText('t').insert(i % 50, `edit ${i} `)
    Y.applyUpdate(other, Y.encodeStateAsUpdate(source))
    for (let i = 0; i < 500; i++) other.getText('t').insert(i % 70, `o${i}`)
    source.getText('t').delete(10, 200)
    Y.applyUpdate(source, Y.encodeStateAsUpdate(other))
    const a = stockClient(r.net, 'relay/big', 'a', source)
    const expected = () => source.getText('t').toString()
    await waitFor(async () => JSON.stringify(await storedState(r.store, 'big')) === JSON.stringify(stateOf(source)))
    let parts = 0
    const joiners = Array.from({ length: 5 }, (_, i) => {
      const j = stockClient(r.net, 'relay/big', `j${i}`)
      j.doc.on('update', () => parts++)
      return j
    })
    await waitFor(() => joiners.every((j) => j.doc.getText('t').toString() === expected()))
    expect(parts).toBeGreaterThan(joiners.length)
    expect(r.loads).toBe(0)
    a.close()
    for (const j of joiners) j.close()
  })

  it('hydration while cold updates are still being written loses none of them, and later updates take the Y.Doc', async () => {
    const store = new MemoryStore({ autoFlush: false })
    const r = relayOn(true, SEED, store)
    cleanups.push(async () => {
      store.flush()
      await r.relay.destroy()
    })
    r.serve('doc')
    // The relay writes its tombstones document as it starts.
    let ready = false
    r.relay.ready.then(() => (ready = true))
    await waitFor(() => {
      store.flush()
      return ready
    })
    const source = new Y.Doc()
    // Flow control holds a connection's next update until its last is durable: one writer per pending append.
    const writers = Array.from({ length: 5 }, (_, i) => stockClient(r.net, 'relay/doc', `w${i}`))
    const b = stockClient(r.net, 'relay/doc', 'b')
    await waitFor(() => r.net.inFlight === 0)
    const updates: Uint8Array[] = []
    source.on('update', (u: Uint8Array) => updates.push(u))
    for (const [i, w] of writers.entries()) {
      source.getText('t').insert(0, 'x')
      w.send(updates.shift() as Uint8Array)
      // In order: each builds on the one before, still being written (taken cold all the same).
      await waitFor(() => store.pendingCount === i + 1, { timeout: 2000, what: `${i + 1} pending appends` })
    }
    // A nested type needs the Y.Doc: the document hydrates while the 5 appends are pending.
    source.getArray('a').insert(0, [new Y.Array()])
    ;(writers[0] as StockClient).send(updates.shift() as Uint8Array)
    await waitFor(() => r.net.inFlight === 0)
    expect(r.loads).toBe(0)
    store.flush()
    await waitFor(() => r.loads === 1 && r.relay.loadedDoc('doc') !== undefined, { timeout: 2000, what: 'hydrated' })
    for (let i = 0; i < 5; i++) {
      source.getText('t').insert(0, 'y')
      ;(writers[i] as StockClient).send(updates.shift() as Uint8Array)
    }
    await waitFor(
      () => {
        store.flush()
        return store.pendingCount === 0 && JSON.stringify(stateOf(b.doc)) === JSON.stringify(stateOf(source))
      },
      { timeout: 2000, what: 'b to have everything' },
    )
    expect(stateOf(r.relay.loadedDoc('doc') as Y.Doc)).toEqual(stateOf(source))
    expect(await storedState(store, 'doc')).toEqual(stateOf(source))
    expect(r.loads).toBe(1)
    for (const w of [...writers, b]) w.close()
  })

  it('a relay serving cold and one that builds a Y.Doc, fed the same random updates (gaps, nested types, deletes, duplicates), joins and leaves, end with the same stored state and the same state at every client', async () => {
    await runSeeds(SEED, 6, REPLAY, randomRun)
  }, 60_000)
})

/** One random run: writers make edits, their updates reach both relays in a random order through clients that join and leave. */
const randomRun = async (seed: number): Promise<void> => {
  const random = seededRandom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
  const cold = relayOn(true, seed)
  const warm = relayOn(false, seed)
  const names = ['d0', 'd1']
  for (const n of names) {
    cold.serve(n)
    warm.serve(n)
  }
  const writers = Array.from({ length: 3 }, (_, i) => {
    const doc = new Y.Doc()
    doc.clientID = 1000 + i + seed * 10
    const made: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => made.push(u))
    return { doc, made, name: names[i % names.length] as string }
  })
  /** Updates made and not sent yet, per document; and every update sent, for duplicates. */
  const unsent = new Map<string, Uint8Array[]>(names.map((n) => [n, []]))
  const sent = new Map<string, Uint8Array[]>(names.map((n) => [n, []]))
  const pairs: Array<{ name: string; cold: StockClient; warm: StockClient }> = []
  let joined = 0
  const join = (name: string) => {
    const id = `c${joined++}`
    pairs.push({
      name,
      cold: stockClient(cold.net, `relay/${name}`, id),
      warm: stockClient(warm.net, `relay/${name}`, id),
    })
  }
  for (const n of names) join(n)
  const edit = (w: (typeof writers)[number]) => {
    const text = w.doc.getText('t')
    const r = random()
    if (r < 0.55 || text.length === 0)
      text.insert(Math.floor(random() * (text.length + 1)), `w${Math.floor(random() * 100)}`)
    else if (r < 0.8) text.delete(Math.floor(random() * text.length), 1 + Math.floor(random() * 3))
    else if (r < 0.9) w.doc.getMap('m').set(`k${Math.floor(random() * 4)}`, Math.floor(random() * 100))
    else w.doc.getArray('a').insert(0, [new Y.Array()])
    // Writers of one document learn each other's edits now and then (origins across clients).
    for (const other of writers) {
      if (other !== w && other.name === w.name && random() < 0.3) {
        Y.applyUpdate(w.doc, Y.encodeStateAsUpdate(other.doc, Y.encodeStateVector(w.doc)), 'peer')
      }
    }
    ;(unsent.get(w.name) as Uint8Array[]).push(...w.made.splice(0))
  }
  const deliver = (name: string, update: Uint8Array) => {
    const live = pairs.filter((p) => p.name === name)
    if (live.length === 0) join(name)
    const p = pick(pairs.filter((x) => x.name === name))
    // A client has what it sends (a relay does not echo an update to its sender).
    Y.applyUpdate(p.cold.doc, update)
    Y.applyUpdate(p.warm.doc, update)
    p.cold.send(update)
    p.warm.send(update)
    ;(sent.get(name) as Uint8Array[]).push(update)
  }
  for (let step = 0; step < 60; step++) {
    const r = random()
    const name = pick(names)
    if (r < 0.4) edit(pick(writers))
    else if (r < 0.75) {
      // A random unsent update: out of order makes gaps.
      const queue = unsent.get(name) as Uint8Array[]
      if (queue.length > 0)
        deliver(name, queue.splice(random() < 0.7 ? 0 : Math.floor(random() * queue.length), 1)[0] as Uint8Array)
    } else if (r < 0.82) {
      const old = sent.get(name) as Uint8Array[]
      if (old.length > 0) deliver(name, pick(old))
    } else if (r < 0.92) join(name)
    else if (pairs.length > 0) {
      const p = pairs.splice(Math.floor(random() * pairs.length), 1)[0]
      p?.cold.close()
      p?.warm.close()
    }
    if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)))
  }
  // Some updates may stay unsent: gaps that never fill are part of the run.
  for (const n of names) if (random() < 0.5) for (const u of (unsent.get(n) as Uint8Array[]).splice(0)) deliver(n, u)
  for (const n of names) join(n)
  const same = async () => {
    for (const n of names) {
      if (JSON.stringify(await storedState(cold.store, n)) !== JSON.stringify(await storedState(warm.store, n)))
        return false
    }
    return pairs.every((p) => JSON.stringify(stateOf(p.cold.doc)) === JSON.stringify(stateOf(p.warm.doc)))
  }
  try {
    await waitFor(same, { timeout: 8000 }).catch(async (err) => {
      const stored = await Promise.all(
        names.map(async (n) => [n, await storedState(cold.store, n), await storedState(warm.store, n)]),
      )
      const clients = pairs.map((p) => [p.name, stateOf(p.cold.doc), stateOf(p.warm.doc)])
      throw new Error(`${(err as Error).message}: stored ${JSON.stringify(stored)} clients ${JSON.stringify(clients)}`)
    })
  } finally {
    for (const p of pairs) {
      p.cold.close()
      p.warm.close()
    }
    await cold.relay.destroy()
    await warm.relay.destroy()
  }
}
