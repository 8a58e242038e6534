/**
 * Shared sync answers (sync-answer-cache.ts): peers asking at one state vector share one
 * computed answer, and a kept answer is never stale after a change. Loading a document
 * for many concurrent joiners happens once.
 */
import { MemoryNetwork, MemoryStore, Replica } from '@converge/core'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { Message } from '../../packages/core/src/messages.js'
import { SyncAnswerCache } from '../../packages/core/src/sync-answer-cache.js'
import type { Transport } from '../../packages/core/src/transport.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from '../../packages/core/src/y-websocket-codec.js'
import { seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'

const DOC = 'doc'
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const c of cleanups.splice(0)) await c()
})

/** What the relay's document was when a frame left it. */
interface Sent {
  frame: Uint8Array
  stateVector: Uint8Array
  text: string
}

/** A y-websocket socket to the relay, driven frame by frame: sends step 1s, collects step 2s. */
const rawPeer = (net: MemoryNetwork, address: string, name: string) => {
  const received: Message[] = []
  const t = net.connector(address, name)()
  let open = false
  t.attach({
    onOpen: () => {
      open = true
    },
    onMessage: (frame) => received.push(decodeYWebsocketFrame(frame, DOC)),
    onClose: () => undefined,
  })
  return {
    received,
    whenOpen: () => waitFor(() => open),
    step1: (stateVector: Uint8Array) => t.send(encodeYWebsocketFrame({ type: 'sync-step1', doc: DOC, stateVector })),
    close: () => t.close(),
  }
}

describe('shared sync answers', () => {
  it('a kept answer is never stale: each step 2, applied to the asker’s state, yields the relay’s document as it was then (seeded)', async () => {
    const seed = seedFor('sync answers', import.meta.url)
    const gen = prng.create(seed)
    const delays = prng.create(seed + 1)
    const net = new MemoryNetwork({ random: () => prng.real53(delays) })
    const relay = new Replica({ role: 'relay', peerId: 'relay' })
    const relayDoc = await relay.open(DOC)
    // The relay's state at each step 2 it sends, captured synchronously in its send, per asker.
    const sent = new Map<string, Sent[]>()
    net.listen('relay', (t: Transport) => {
      const send = t.send.bind(t)
      const mine: Sent[] = []
      sent.set((t.description ?? '').replace(/^.*<-/, ''), mine)
      t.send = (frame) => {
        if (decodeYWebsocketFrame(frame, DOC).type === 'sync-step2') {
          mine.push({ frame, stateVector: Y.encodeStateVector(relayDoc), text: relayDoc.getText('t').toString() })
        }
        send(frame)
      }
      relay.accept(t, { framing: { yWebsocketDoc: DOC } })
    })
    cleanups.push(() => relay.destroy())

    // Count how often an answer was computed rather than shared.
    let computed = 0
    let asked = 0
    const answer = SyncAnswerCache.prototype.answer
    vi.spyOn(SyncAnswerCache.prototype, 'answer').mockImplementation(function (this: SyncAnswerCache, ...args) {
      asked++
      const [doc, sv, max, compute] = args
      return answer.call(this, doc, sv, max, () => {
        computed++
        return compute()
      })
    })

    // Editors make updates; some are applied out of order, so the relay holds pending structs at times.
    const editors = [new Y.Doc(), new Y.Doc()]
    const queued: Uint8Array[] = []
    for (const e of editors)
      e.on('update', (u: Uint8Array) => queued.push(u))
      // A large first block: answers from before it are big enough to be kept.
    ;(editors[0] as Y.Doc).getText('t').insert(0, 'x'.repeat(40_000))
    // States askers start from: empty, and snapshots of the relay as it goes.
    const snapshots: Uint8Array[] = [Y.encodeStateAsUpdate(new Y.Doc())]
    const peers = Array.from({ length: 4 }, (_, i) => rawPeer(net, 'relay', `asker-${i}`))
    for (const p of peers) await p.whenOpen()
    const asks: Array<{ peer: number; from: Uint8Array }> = []
    const edits: Promise<void>[] = []

    for (let step = 0; step < 80; step++) {
      const action = prng.uint32(gen, 0, 9)
      if (action < 4) {
        const e = editors[prng.uint32(gen, 0, editors.length - 1)] as Y.Doc
        const text = e.getText('t')
        if (text.length > 0 && prng.bool(gen)) text.delete(prng.uint32(gen, 0, text.length - 1), 1)
        else text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 1, 4))
        // Sometimes two updates go in swapped order (the first waits as pending on the relay).
        const take = queued.length >= 2 && prng.bool(gen) ? queued.splice(0, 2).reverse() : queued.splice(0)
        for (const u of take) edits.push(relay.applyUpdate(DOC, u))
      } else if (action < 5) {
        snapshots.push(Y.encodeStateAsUpdate(relayDoc))
      } else {
        const peer = prng.uint32(gen, 0, peers.length - 1)
        const from = snapshots[prng.uint32(gen, 0, snapshots.length - 1)] as Uint8Array
        const p = peers[peer] as ReturnType<typeof rawPeer>
        asks.push({ peer, from })
        p.step1(Y.encodeStateVectorFromUpdate(from))
        // Some asks wait for their answer before the next step; others cross the edits in flight.
        if (prng.bool(gen)) {
          const n = asks.filter((a) => a.peer === peer).length
          await waitFor(() => p.received.filter((m) => m.type === 'sync-step2').length >= n)
        }
      }
    }
    await Promise.all(edits)
    for (const [i, p] of peers.entries()) {
      const n = asks.filter((a) => a.peer === i).length
      await waitFor(() => p.received.filter((m) => m.type === 'sync-step2').length >= n, {
        what: `asker ${i}'s answers (seed ${seed})`,
      })
    }

    // Match asks to answers per asker, in order: the relay answers each socket's step 1s in order.
    for (const [i, p] of peers.entries()) {
      const mine = asks.filter((a) => a.peer === i)
      const answers = p.received.filter((m) => m.type === 'sync-step2')
      const origins = sent.get(`asker-${i}`) ?? []
      // Every step 2 answers one ask (nobody answers the relay's own step 1 here).
      expect(answers.length).toBe(mine.length)
      expect(origins.length).toBe(mine.length)
      for (const [k, ask] of mine.entries()) {
        const m = answers[k] as Extract<Message, { type: 'sync-step2' }>
        const origin = origins[k] as Sent
        const asker = new Y.Doc()
        Y.applyUpdate(asker, ask.from)
        Y.applyUpdate(asker, m.update)
        expect(asker.getText('t').toString(), `answer ${k} of asker ${i} (seed ${seed})`).toBe(origin.text)
        expect(Y.decodeStateVector(Y.encodeStateVector(asker))).toEqual(Y.decodeStateVector(origin.stateVector))
      }
    }
    for (const p of peers) p.close()
    // The property ran on shared answers, not only on fresh ones.
    expect(asked).toBeGreaterThan(0)
    expect(computed).toBeLessThan(asked)
  })

  it('many clients joining a document at once load it from the store once and share one answer', async () => {
    const store = new MemoryStore()
    const seedDoc = new Y.Doc()
    seedDoc.getText('t').insert(0, 'y'.repeat(50_000))
    await store.append(DOC, Y.encodeStateAsUpdate(seedDoc))
    const loads = vi.spyOn(store, 'load')
    // Asks and computed answers per Y.Doc (the relay's and each client's own).
    const perDoc = new Map<object, { asked: number; computed: number }>()
    const answer = SyncAnswerCache.prototype.answer
    vi.spyOn(SyncAnswerCache.prototype, 'answer').mockImplementation(function (this: SyncAnswerCache, ...args) {
      const [doc, sv, max, compute] = args
      const counts = perDoc.get(doc) ?? { asked: 0, computed: 0 }
      perDoc.set(doc, counts)
      counts.asked++
      return answer.call(this, doc, sv, max, () => {
        counts.computed++
        return compute()
      })
    })
    const net = new MemoryNetwork()
    const relay = new Replica({ role: 'relay', peerId: 'relay', store })
    net.listen('relay', (t) => relay.accept(t))
    const clients = Array.from({ length: 12 }, (_, i) => new Replica({ peerId: `c${i}` }))
    cleanups.push(async () => {
      for (const c of clients) await c.destroy()
      await relay.destroy()
    })
    const docs = await Promise.all(
      clients.map(async (c) => {
        const d = await c.open(DOC)
        c.connect(net.connector('relay', c.peerId))
        return d
      }),
    )
    await Promise.all(clients.map((c) => c.whenSynced(DOC, { timeout: 10_000 })))
    for (const d of docs) expect(d.getText('t').length).toBe(50_000)
    expect(loads.mock.calls.filter(([name]) => name === DOC)).toHaveLength(1)
    // Every client asked the relay at the empty state vector: one answer computed for all of them.
    const relayCounts = [...perDoc.values()].sort((a, b) => b.asked - a.asked)[0]
    expect(relayCounts).toEqual({ asked: clients.length, computed: 1 })
  })
})
