import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { type Step2Sink, streamAnswer } from './step2-stream.js'
import { answerLoaded, SyncAnswer } from './sync-answer.js'
import { SyncAnswerCache } from './sync-answer-cache.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261127)
const EMPTY_SV = new Uint8Array([0])
const PART = 1024

/** A document of 2,000 inserts at the front (as many structs) and its cache, cleared on every change as DocFanOut does. */
const sharedDoc = () => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  for (let i = 0; i < 2000; i++) text.insert(0, `edit ${i} `)
  const cache = new SyncAnswerCache()
  doc.on('update', () => cache.clear())
  const answer = (sv: Uint8Array) =>
    cache.answer(
      doc,
      sv,
      PART,
      () => new SyncAnswer(doc, sv, PART, (since) => Y.encodeStateAsUpdate(doc, since), cache),
    )
  return { doc, text, cache, answer }
}

interface State {
  text: string
  sv: Map<number, number>
}
const stateOf = (doc: Y.Doc, name = 'text'): State => ({
  text: doc.getText(name).toString(),
  sv: Y.decodeStateVector(Y.encodeStateVector(doc)),
})

/** A joiner: applies what it is sent; `queued` plays its socket's queue (it waits while that holds a part). */
const joiner = (source: Y.Doc) => {
  const receiver = new Y.Doc()
  const parts: Uint8Array[] = []
  const result: { mine: State | undefined; source: State | undefined } = { mine: undefined, source: undefined }
  const sink: Step2Sink & { queued: number } = {
    queued: 0,
    part: (update) => {
      parts.push(update)
      Y.applyUpdate(receiver, update)
    },
    step2: (update) => {
      Y.applyUpdate(receiver, update)
      result.mine = stateOf(receiver)
      result.source = stateOf(source)
    },
    bufferedAmount: () => sink.queued,
    ended: () => false,
  }
  return { sink, parts, result, receiver }
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('SyncAnswer', () => {
  it('joiners streaming one shared answer get the same part bytes, cut once; one that reaches the step 2 after a change gets it made anew, not the stale one', async () => {
    const { doc, text, answer } = sharedDoc()
    const first = answer(EMPTY_SV)
    expect(answer(EMPTY_SV)).toBe(first)
    const a = joiner(doc)
    const b = joiner(doc)
    b.sink.queued = PART
    const doneA = streamAnswer(first, a.sink)
    const doneB = streamAnswer(first, b.sink)
    await doneA
    expect(a.result.mine).toEqual(a.result.source)
    // After a's step 2: the step 2 made for it no longer covers the document.
    text.insert(100, '[after a]')
    text.delete(0, 5)
    b.sink.queued = 0
    await doneB
    expect(b.result.mine).toEqual(stateOf(doc))
    expect(b.result.mine).not.toEqual(a.result.mine)
    expect(b.parts.length).toBeGreaterThan(5)
    expect(b.parts.length).toBe(a.parts.length)
    for (const [i, p] of b.parts.entries()) expect(p).toBe(a.parts[i])
    // The change cleared the cache: the next joiner gets a new answer.
    expect(answer(EMPTY_SV)).not.toBe(first)
  })

  it(`whatever the document does while joiners stream, each one's step 2 leaves it holding the document as it is then (seed ${SEED}; CONVERGE_SEED=<n> to replay)`, async () => {
    const random = seededRandom(SEED)
    for (let round = 0; round < 3; round++) {
      const { doc, text, answer } = sharedDoc()
      const snapshot = Y.encodeStateAsUpdate(doc)
      for (let i = 0; i < 500; i++) text.insert(Math.floor(random() * text.length), `more ${i} `)
      const joiners: Array<ReturnType<typeof joiner>> = []
      const done: Promise<void>[] = []
      const join = () => {
        const j = joiner(doc)
        // Some start from the old snapshot, the others from nothing.
        if (random() < 0.3) Y.applyUpdate(j.receiver, snapshot)
        j.sink.queued = random() < 0.5 ? PART : 0
        joiners.push(j)
        done.push(streamAnswer(answer(Y.encodeStateVector(j.receiver)), j.sink))
      }
      for (let step = 0; step < 200; step++) {
        const r = random()
        // Joiners come in bursts (sharing answers while the document stays unchanged).
        if (r < 0.15) for (let n = 1 + Math.floor(random() * 3); n > 0; n--) join()
        else if (r < 0.25 && text.length > 20)
          text.delete(Math.floor(random() * (text.length - 10)), 1 + Math.floor(random() * 9))
        else if (r < 0.35) text.insert(Math.floor(random() * text.length), `[${step}]`)
        else if (r < 0.6 && joiners.length > 0) {
          const j = joiners[Math.floor(random() * joiners.length)] as ReturnType<typeof joiner>
          j.sink.queued = j.sink.queued > 0 ? 0 : PART
        } else await turn()
      }
      for (const j of joiners) j.sink.queued = 0
      await Promise.all(done)
      expect(joiners.length).toBeGreaterThan(5)
      for (const [i, j] of joiners.entries()) {
        expect(j.result.mine, `round ${round}, joiner ${i} (seed ${SEED})`).toEqual(j.result.source)
      }
    }
  })

  it('an answer is kept for later joiners until the document changes, in parts or whole', async () => {
    const { doc, text, cache } = sharedDoc()
    const source = {
      fanOut: { syncAnswers: cache },
      doc,
      encoded: undefined,
      diffLoaded: (d: Y.Doc, sv: Uint8Array) => Y.encodeStateAsUpdate(d, sv),
    }
    const a = joiner(doc)
    const b = joiner(doc)
    const streams = [
      answerLoaded(source, doc, EMPTY_SV, undefined, PART, a.sink),
      answerLoaded(source, doc, EMPTY_SV, undefined, PART, b.sink),
    ]
    expect(cache.size).toBe(1)
    await Promise.all(streams)
    expect(a.parts.length).toBeGreaterThan(1)
    expect(b.parts).toEqual(a.parts)
    // A joiner arriving after both were done streams the same parts, cut no more.
    const c = joiner(doc)
    await answerLoaded(source, doc, EMPTY_SV, undefined, PART, c.sink)
    expect(c.parts.length).toBe(a.parts.length)
    for (const [i, p] of c.parts.entries()) expect(p).toBe(a.parts[i])
    expect(c.result.mine).toEqual(stateOf(doc))
    // The same document in one message: kept for the next asker.
    const whole = joiner(doc)
    await answerLoaded(source, doc, EMPTY_SV, undefined, 1024 * 1024, whole.sink)
    expect(whole.result.mine).toEqual(stateOf(doc))
    expect(cache.size).toBe(2)
    text.insert(0, 'x')
    expect(cache.size).toBe(0)
  })
})
