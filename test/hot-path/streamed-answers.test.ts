/**
 * Streamed, shared sync answers (sync-answer.ts): a document larger than one part goes to
 * its joiners in parts, cut once per document version and sent as the same bytes to every
 * joiner; the step 2 after the parts is never stale, however the document changed while
 * they streamed.
 */
import { MemoryNetwork, Replica } from '@converge/core'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { DiffSplitter } from '../../packages/core/src/split-diff.js'
import { SyncAnswerCache } from '../../packages/core/src/sync-answer-cache.js'
import type { Transport } from '../../packages/core/src/transport.js'
import { decodeYWebsocketFrame } from '../../packages/core/src/y-websocket-codec.js'
import { seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'
import { ySocket } from '../helpers/y-socket.js'

const DOC = 'doc'
/** Parts of 4 KiB: the documents below go in tens of parts. */
const CHUNK = 4096
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const c of cleanups.splice(0)) await c()
})

/** The state of a document at one moment. */
interface State {
  text: string
  stateVector: Map<number, number>
}
const stateOf = (doc: Y.Doc): State => ({
  text: doc.getText('t').toString(),
  stateVector: Y.decodeStateVector(Y.encodeStateVector(doc)),
})

/** A document of `n` inserts at random places: as many structs, few merging. */
const editedDoc = (gen: prng.PRNG, n: number): Y.Doc => {
  const doc = new Y.Doc()
  const text = doc.getText('t')
  for (let i = 0; i < n; i++) text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 3, 12))
  return doc
}

/**
 * A relay on `net` answering y-websocket sockets in parts of CHUNK bytes. For each socket,
 * `sent` records every frame and, at each step 2, the relay's document as it was then.
 */
const startRelay = async (net: MemoryNetwork) => {
  const relay = new Replica({ role: 'relay', peerId: 'relay' })
  const relayDoc = await relay.open(DOC)
  const sent = new Map<string, { frames: Uint8Array[]; atStep2: State[] }>()
  net.listen('relay', (t: Transport) => {
    const send = t.send.bind(t)
    const mine = { frames: [] as Uint8Array[], atStep2: [] as State[] }
    sent.set((t.description ?? '').replace(/^.*<-/, ''), mine)
    t.send = (frame) => {
      mine.frames.push(frame)
      if (decodeYWebsocketFrame(frame, DOC).type === 'sync-step2') mine.atStep2.push(stateOf(relayDoc))
      send(frame)
    }
    relay.accept(t, { framing: { yWebsocketDoc: DOC }, maxSyncChunkBytes: CHUNK })
  })
  cleanups.push(() => relay.destroy())
  return { relay, relayDoc, sent }
}

/** A y-websocket socket to the relay (y-socket.ts) that records its document's state right after each step 2. */
const joiner = (net: MemoryNetwork, name: string, onPart?: () => void) => {
  const afterStep2: State[] = []
  const socket = ySocket(net, name, { onPart, onStep2: (doc) => afterStep2.push(stateOf(doc)) })
  cleanups.push(socket.close)
  return { ...socket, afterStep2 }
}

/** Counts the answers computed, as opposed to shared, per Y.Doc they answer from. */
const countComputedAnswers = () => {
  const computed = new Map<object, number>()
  const answer = SyncAnswerCache.prototype.answer
  vi.spyOn(SyncAnswerCache.prototype, 'answer').mockImplementation(function (this: SyncAnswerCache, ...args) {
    const [doc, sv, max, compute] = args
    return answer.call(this, doc, sv, max, () => {
      computed.set(doc, (computed.get(doc) ?? 0) + 1)
      return compute()
    })
  })
  return computed
}

describe('streamed sync answers', () => {
  it('a streamed answer is never stale: after the step 2 each joiner holds the relay’s document as it was then, however it changed while the parts streamed (seeded)', async () => {
    const seed = seedFor('streamed answers', import.meta.url)
    const gen = prng.create(seed)
    const delays = prng.create(seed + 1)
    const net = new MemoryNetwork({ random: () => prng.real53(delays) })
    const { relay, relayDoc, sent } = await startRelay(net)
    // The document in two halves: some joiners start from the first (an old snapshot).
    const editor = editedDoc(gen, 1_500)
    const snapshot = Y.encodeStateAsUpdate(editor)
    const text = editor.getText('t')
    for (let i = 0; i < 1_500; i++) text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 3, 12))
    await relay.applyUpdate(DOC, Y.encodeStateAsUpdate(editor))
    expect(Y.encodeStateAsUpdate(relayDoc).length).toBeGreaterThan(8 * CHUNK)
    const edits: Promise<void>[] = []
    editor.on('update', (u: Uint8Array) => edits.push(relay.applyUpdate(DOC, u)))
    let editing = false
    /** At each part a joiner gets: an insert (inside existing items, so Yjs splits them), a deletion or an append. */
    const edit = () => {
      if (!editing) return
      const r = prng.uint32(gen, 0, 2)
      if (r === 0) text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 1, 6))
      else if (r === 1 && text.length > 10) text.delete(prng.uint32(gen, 0, text.length - 10), prng.uint32(gen, 1, 10))
      else text.insert(text.length, prng.word(gen, 1, 6))
    }
    const joiners = Array.from({ length: 6 }, (_, i) => joiner(net, `joiner-${i}`, edit))
    for (const [i, j] of joiners.entries()) if (i % 3 === 2) Y.applyUpdate(j.doc, snapshot)
    // Half join at once; the others a few parts behind them, sharing their answers (the
    // document is unchanged until then); from then on the document changes at every part
    // a joiner gets: while parts are cut, and after the leaders got their step 2 (so the
    // step 2 made for them is stale for the others).
    await Promise.all(joiners.slice(0, 3).map((j) => j.join()))
    await waitFor(() => (joiners[0]?.parts() ?? 0) >= 3, { what: `first parts (seed ${seed})` })
    await Promise.all(joiners.slice(3).map((j) => j.join()))
    editing = true
    for (const j of joiners) await waitFor(() => j.afterStep2.length === 1, { what: `step 2s (seed ${seed})` })
    await Promise.all(edits)

    for (const [i, j] of joiners.entries()) {
      const atRelay = sent.get(`joiner-${i}`)?.atStep2[0] as State
      expect(j.afterStep2[0], `joiner ${i} right after its step 2 (seed ${seed})`).toEqual(atRelay)
    }
    // The property ran on streams the document changed under, and on parts (not only whole answers).
    expect(edits.length).toBeGreaterThan(5)
    for (const j of joiners) expect(j.parts()).toBeGreaterThan(1)
    // Later updates reach them too: every joiner ends with the relay's document (waiting for
    // the text as well: a deletion in flight leaves the state vectors equal).
    const same = (a: Y.Doc, b: Y.Doc) =>
      a.getText('t').toString() === b.getText('t').toString() &&
      Y.encodeStateVector(a).toString() === Y.encodeStateVector(b).toString()
    for (const [i, j] of joiners.entries())
      await waitFor(() => same(j.doc, relayDoc), { what: `joiner ${i} converged (seed ${seed})` })
  })

  it('50 joiners of a document larger than one part, all at once, all converge on one answer computed and cut once, sent as the same frames', async () => {
    const net = new MemoryNetwork()
    const { relay, relayDoc, sent } = await startRelay(net)
    await relay.applyUpdate(DOC, Y.encodeStateAsUpdate(editedDoc(prng.create(20261127), 4_000)))
    const computed = countComputedAnswers()
    const cuts = vi.spyOn(DiffSplitter.prototype, 'next')
    const joiners = Array.from({ length: 50 }, (_, i) => joiner(net, `joiner-${i}`))
    await Promise.all(joiners.map((j) => j.join()))
    for (const [i, j] of joiners.entries())
      await waitFor(() => j.afterStep2.length === 1, { what: `joiner ${i}'s step 2`, timeout: 20_000 })

    const relayState = stateOf(relayDoc)
    for (const j of joiners) expect(j.afterStep2[0]).toEqual(relayState)
    const parts = joiners[0]?.parts() ?? 0
    expect(parts).toBeGreaterThan(5)
    for (const j of joiners) expect(j.parts()).toBe(parts)
    // One answer for the relay's document, each part cut once (and one call that found none left).
    expect(computed.get(relayDoc)).toBe(1)
    expect(cuts).toHaveBeenCalledTimes(parts + 1)
    // Encoded once: every joiner was handed the very same frame objects for the parts and the step 2.
    const answerFrames = (name: string) =>
      (sent.get(name)?.frames ?? []).filter((f) =>
        ['update', 'sync-step2'].includes(decodeYWebsocketFrame(f, DOC).type),
      )
    const first = answerFrames('joiner-0')
    expect(first.length).toBe(parts + 1)
    for (let i = 1; i < joiners.length; i++) {
      const frames = answerFrames(`joiner-${i}`)
      expect(frames.length).toBe(first.length)
      for (const [k, f] of frames.entries()) expect(f).toBe(first[k])
    }
  })
})
