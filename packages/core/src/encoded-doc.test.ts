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
})
