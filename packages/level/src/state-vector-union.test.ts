import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { StateVectorUnion } from './state-vector-union.js'

/** Updates of two clients editing one text, each emitted separately. */
const edits = (seed: number, count: number): Uint8Array[] => {
  const gen = prng.create(seed)
  const a = new Y.Doc()
  const b = new Y.Doc()
  a.clientID = 1
  b.clientID = 2
  const updates: Uint8Array[] = []
  for (const d of [a, b]) d.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < count; i++) {
    const [doc, other] = prng.bool(gen) ? [a, b] : [b, a]
    const text = doc.getText('t')
    if (text.length > 2 && prng.int32(gen, 0, 3) === 0) text.delete(prng.int32(gen, 0, text.length - 2), 1)
    else text.insert(prng.int32(gen, 0, text.length), prng.word(gen, 1, 4))
    // Sometimes the other client learns everything, so updates depend on each other.
    if (prng.int32(gen, 0, 4) === 0) Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
  }
  return updates
}

describe('StateVectorUnion', () => {
  it('equals Y.encodeStateVectorFromUpdate of the merged updates, in any order, gaps included', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const updates = edits(seed, 60)
      const gen = prng.create(seed * 7919)
      // A random subset in a random order: some clients end with gaps.
      const chosen = updates.filter(() => prng.int32(gen, 0, 5) > 0)
      for (let i = chosen.length - 1; i > 0; i--) {
        const j = prng.int32(gen, 0, i)
        ;[chosen[i], chosen[j]] = [chosen[j] as Uint8Array, chosen[i] as Uint8Array]
      }
      const union = new StateVectorUnion()
      for (const u of chosen) union.addUpdate(u)
      expect(union.encode(), `seed ${seed}`).toEqual(Y.encodeStateVectorFromUpdate(Y.mergeUpdates(chosen)))
    }
  })

  it('equals the state vector of a Y.Doc when no update is missing, from a stored state vector plus updates', () => {
    const updates = edits(99, 80)
    const doc = new Y.Doc()
    for (const u of updates.slice(0, 50)) Y.applyUpdate(doc, u)
    const union = new StateVectorUnion()
    union.addStateVector(Y.encodeStateVector(doc))
    for (const u of updates.slice(50)) {
      Y.applyUpdate(doc, u)
      union.addUpdate(u)
    }
    expect(union.encode()).toEqual(Y.encodeStateVector(doc))
  })

  it('is the empty state vector when nothing was added', () => {
    expect(new StateVectorUnion().encode()).toEqual(Y.encodeStateVector(new Y.Doc()))
  })
})
