import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeDeleteDigests, deleteSetOfDoc, digestDeleteSet, encodeDeleteDigests } from './delete-set-chunks.js'
import { diffOfDoc } from './replica-doc.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261121)

const randomEdits = (gen: prng.PRNG, doc: Y.Doc, n: number) => {
  const text = doc.getText('t')
  for (let i = 0; i < n; i++) {
    if (text.length > 0 && prng.bool(gen)) {
      const at = prng.uint32(gen, 0, text.length - 1)
      text.delete(at, Math.min(prng.uint32(gen, 1, 5), text.length - at))
    } else {
      text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 1, 6))
    }
  }
}

const clone = (doc: Y.Doc, clientID: number) => {
  const copy = new Y.Doc()
  copy.clientID = clientID
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}

/** One exchange of step 1 / step 2 each way, with or without delete digests; returns the bytes of both step 2s. */
const exchange = (a: Y.Doc, b: Y.Doc, withDigests: boolean) => {
  const step1 = (d: Y.Doc) => {
    const ds = deleteSetOfDoc(d)
    return {
      sv: Y.encodeStateVector(d),
      digests: withDigests && ds ? decodeDeleteDigests(encodeDeleteDigests(digestDeleteSet(ds.ranges))) : undefined,
    }
  }
  const fromA = step1(a)
  const fromB = step1(b)
  const toA = diffOfDoc(b, fromA.sv, fromA.digests)
  const toB = diffOfDoc(a, fromB.sv, fromB.digests)
  Y.applyUpdate(a, toA)
  Y.applyUpdate(b, toB)
  const step1Bytes = (x: ReturnType<typeof step1>) =>
    x.sv.length + (x.digests ? encodeDeleteDigests(x.digests).length : 0)
  return step1Bytes(fromA) + step1Bytes(fromB) + toA.length + toB.length
}

/** Typing in one place, as a person does: a burst of inserts and backspaces around a cursor. */
const typeAround = (gen: prng.PRNG, doc: Y.Doc, n: number) => {
  const text = doc.getText('t')
  let at = prng.uint32(gen, 0, text.length)
  for (let i = 0; i < n; i++) {
    if (at > 0 && prng.uint32(gen, 0, 3) === 0) text.delete(--at, 1)
    else text.insert(at++, prng.word(gen, 1, 1))
  }
}

describe('delete digests in sync step 1', () => {
  it(`two diverged replicas converge exactly as with whole delete sets (seed ${SEED}; CONVERGE_SEED=<n> to replay)`, () => {
    for (let round = 0; round < 60; round++) {
      const gen = prng.create(SEED + round)
      const base = new Y.Doc()
      base.clientID = 1
      randomEdits(gen, base, prng.uint32(gen, 0, 400))
      const a = clone(base, 2)
      const b = clone(base, 3)
      randomEdits(gen, a, prng.uint32(gen, 0, 60))
      randomEdits(gen, b, prng.uint32(gen, 0, 60))
      const a2 = clone(a, 4)
      const b2 = clone(b, 5)
      exchange(a, b, true)
      exchange(a2, b2, false)
      const state = (d: Y.Doc) => [d.getText('t').toString(), Y.encodeStateVector(d)]
      expect(state(a), `round ${round}`).toEqual(state(b))
      expect(state(a), `round ${round}`).toEqual(state(a2))
      expect(deleteSetOfDoc(a)?.bytes, `round ${round}`).toEqual(deleteSetOfDoc(a2)?.bytes)
    }
  })

  it('after typing in one place, a document with a long history resyncs without its whole delete set both ways', () => {
    const gen = prng.create(SEED)
    const base = new Y.Doc()
    base.clientID = 1
    randomEdits(gen, base, 20_000)
    const a = clone(base, 2)
    const b = clone(base, 3)
    typeAround(gen, a, 100)
    const withDigests = exchange(clone(a, 4), clone(b, 5), true)
    const without = exchange(clone(a, 6), clone(b, 7), false)
    expect(deleteSetOfDoc(base)?.bytes.length).toBeGreaterThan(4_000)
    console.log(`resync after 100 typed edits: ${withDigests} bytes with delete digests, ${without} without`)
    expect(withDigests * 3).toBeLessThan(without)
  })
})
