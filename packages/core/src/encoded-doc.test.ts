import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { EncodedDoc } from './encoded-doc.js'

/** Updates of one writer: three inserts and a deletion. */
const updatesOf = (): Uint8Array[] => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const text = doc.getText('t')
  text.insert(0, 'abc')
  text.insert(3, 'def')
  text.insert(6, 'ghi')
  text.delete(1, 2)
  return updates
}

describe('EncodedDoc', () => {
  it('a new document’s state after one update is that update as it came (no merge), and after more it is their merge', () => {
    const [a, b, c] = updatesOf() as [Uint8Array, Uint8Array, Uint8Array]
    const empty = new Uint8Array([0, 0])
    const encoded = new EncodedDoc(empty, Y.encodeStateVectorFromUpdate(empty))
    const reach = (u: Uint8Array) => Y.decodeStateVector(Y.encodeStateVectorFromUpdate(u))
    encoded.commit(a, reach(a), new Map())
    expect(encoded.state).toBe(a)
    // A view into a larger buffer (a socket's read) is copied, not kept with its buffer.
    const framed = new Uint8Array(a.length + 8)
    framed.set(a, 4)
    const view = framed.subarray(4, 4 + a.length)
    const fresh = new EncodedDoc(empty, Y.encodeStateVectorFromUpdate(empty))
    fresh.commit(view, reach(a), new Map())
    expect(fresh.state).toEqual(a)
    expect(fresh.state.buffer).not.toBe(framed.buffer)
    encoded.commit(b, reach(b), new Map())
    encoded.commit(c, reach(c), new Map())
    const doc = new Y.Doc()
    Y.applyUpdate(doc, encoded.state)
    const expected = new Y.Doc()
    for (const u of [a, b, c]) Y.applyUpdate(expected, u)
    expect(doc.getText('t').toString()).toBe(expected.getText('t').toString())
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(expected))
  })

  it('what a peer at the state vector lacks is what Y.diffUpdate says, structs past a gap in the state included', () => {
    const [a, b, c, d] = updatesOf() as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
    // Whole, and with the second insert missing (the third waits past a gap).
    for (const state of [Y.mergeUpdates([a, b, c, d]), Y.mergeUpdates([a, c, d])]) {
      const encoded = new EncodedDoc(state, Y.encodeStateVectorFromUpdate(state))
      encoded.structs() // as an answer cut in parts does first
      const peer = new Y.Doc()
      Y.applyUpdate(peer, state)
      const sv = Y.encodeStateVector(peer)
      const lacked = Y.decodeUpdate(encoded.diff(sv))
      const expected = Y.decodeUpdate(Y.diffUpdate(state, sv))
      expect(lacked.structs.map((s) => [s.id.client, s.id.clock, s.length])).toEqual(
        expected.structs.map((s) => [s.id.client, s.id.clock, s.length]),
      )
      expect([...lacked.ds.clients]).toEqual([...expected.ds.clients])
    }
  })

  it('the deletions kept up to date commit by commit are those of the merged state (seeded)', () => {
    const seed = Number(process.env.CONVERGE_SEED ?? Date.now() % 100_000)
    console.log(
      `seed ${seed}; replay: CONVERGE_SEED=${seed} npx vitest run --config test/vitest.config.ts packages/core/src/encoded-doc.test.ts`,
    )
    let x = seed
    const random = () => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648
      return x / 2_147_483_648
    }
    const writers = [new Y.Doc(), new Y.Doc()]
    const updates: Uint8Array[] = []
    for (const w of writers) w.on('update', (u: Uint8Array, origin: unknown) => origin !== 'sync' && updates.push(u))
    const first = writers[0] as Y.Doc
    first.getText('t').insert(0, 'hello world')
    const state0 = updates.splice(0).reduce((a, b) => Y.mergeUpdates([a, b]))
    for (const w of writers) if (w !== first) Y.applyUpdate(w, state0, 'sync')
    const encoded = new EncodedDoc(state0, Y.encodeStateVectorFromUpdate(state0))
    encoded.deleted() // the kept copy starts here
    for (let i = 0; i < 200; i++) {
      const w = writers[Math.floor(random() * writers.length)] as Y.Doc
      const text = w.getText('t')
      if (random() < 0.5 && text.length > 0) {
        const at = Math.floor(random() * text.length)
        text.delete(at, 1 + Math.floor(random() * Math.min(3, text.length - at)))
      } else text.insert(Math.floor(random() * (text.length + 1)), 'xyz'.slice(0, 1 + Math.floor(random() * 3)))
      const update = updates.splice(0)[0] as Uint8Array
      for (const o of writers) if (o !== w) Y.applyUpdate(o, update, 'sync')
      const decoded = Y.decodeUpdate(update)
      const deletes = new Map<number, Array<[number, number]>>()
      for (const [client, items] of decoded.ds.clients)
        deletes.set(
          client,
          items.map((d) => [d.clock, d.len]),
        )
      encoded.commit(update, Y.decodeStateVector(Y.encodeStateVector(w)), deletes)
      const fresh = new EncodedDoc(encoded.state, encoded.stateVector())
      expect(encoded.deleted(), `seed ${seed}, step ${i}`).toEqual(fresh.deleted())
    }
  })
})
