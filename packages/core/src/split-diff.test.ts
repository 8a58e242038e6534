import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { splitDiff, surelyLargerThan } from './split-diff.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261127)

/** Random edits on `doc`: text inserts and deletes, map sets, nested arrays. */
const edit = (doc: Y.Doc, random: () => number, n: number) => {
  const text = doc.getText('text')
  const map = doc.getMap<unknown>('map')
  for (let i = 0; i < n; i++) {
    const r = random()
    if (r < 0.5 || text.length === 0) {
      text.insert(Math.floor(random() * (text.length + 1)), 'abcdefgh'.slice(0, 1 + Math.floor(random() * 8)))
    } else if (r < 0.7) {
      const at = Math.floor(random() * text.length)
      text.delete(at, Math.min(text.length - at, 1 + Math.floor(random() * 5)))
    } else if (r < 0.85) {
      map.set(`k${Math.floor(random() * 10)}`, random())
    } else {
      const key = `list${Math.floor(random() * 3)}`
      let list = map.get(key)
      if (!(list instanceof Y.Array)) {
        list = new Y.Array<number>()
        map.set(key, list)
      }
      ;(list as Y.Array<number>).push([i])
    }
  }
}

const sync = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))

describe('splitDiff', () => {
  it(`a diff split into small chunks applies chunk by chunk with nothing pending and converges (seed ${SEED}; CONVERGE_SEED=<n> to replay)`, () => {
    const random = seededRandom(SEED)
    for (let round = 0; round < 20; round++) {
      // Three replicas edit concurrently and merge now and then: structs of several clients depend on each other.
      const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
      const receiver = new Y.Doc()
      for (let step = 0; step < 6; step++) {
        for (const d of docs) edit(d, random, 20)
        const [a, b] = [docs[Math.floor(random() * 3)] as Y.Doc, docs[Math.floor(random() * 3)] as Y.Doc]
        sync(a, b)
        if (step === 2) sync(b, receiver)
      }
      const source = docs[0] as Y.Doc
      for (const d of docs) sync(d, source)
      const sv = Y.encodeStateVector(receiver)
      const chunks = splitDiff(source, sv, 64)
      expect(chunks.length).toBeGreaterThan(1)
      for (const chunk of chunks) {
        Y.applyUpdate(receiver, chunk)
        expect(receiver.store.pendingStructs).toBeNull()
      }
      // The deletions come last.
      Y.applyUpdate(receiver, Y.encodeStateAsUpdate(source, Y.encodeStateVector(source)))
      expect(receiver.getText('text').toString()).toBe(source.getText('text').toString())
      expect(receiver.getMap('map').toJSON()).toEqual(source.getMap('map').toJSON())
      expect(Y.encodeStateVector(receiver)).toEqual(Y.encodeStateVector(source))
    }
  })

  it(`surelyLargerThan never claims a diff larger than it is, and sees the large ones (seed ${SEED}; CONVERGE_SEED=<n> to replay)`, () => {
    const random = seededRandom(SEED + 1)
    let seen = 0
    for (let round = 0; round < 20; round++) {
      const source = new Y.Doc()
      const receiver = new Y.Doc()
      edit(source, random, 100)
      // Some multi-byte text too: a string's UTF-16 length never exceeds its UTF-8 bytes.
      source.getText('text').insert(0, 'é€😀'.repeat(1 + Math.floor(random() * 20)))
      if (random() < 0.5) sync(source, receiver)
      edit(source, random, 200)
      const sv = Y.encodeStateVector(receiver)
      const size = Y.encodeStateAsUpdate(source, sv).length
      for (const max of [0, 16, 256, Math.floor(size / 4), Math.floor(size / 2), size - 1, size, size * 2]) {
        if (surelyLargerThan(source, sv, max)) {
          expect(size, `round ${round}, max ${max} (seed ${SEED})`).toBeGreaterThan(max)
          seen++
        }
      }
      expect(surelyLargerThan(source, sv, 0)).toBe(true)
      expect(surelyLargerThan(source, Y.encodeStateVector(source), 0)).toBe(false)
    }
    expect(seen).toBeGreaterThan(40)
  })
})
