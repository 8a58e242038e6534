import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/**
 * An update that nests maps `depth` deep under the root map `root` (key 'k' at every
 * level), and the id of its top item. Yjs integrates it; deleting or serializing it past
 * about 3,000 levels overflows the stack.
 */
export const deepMapUpdate = (depth: number): { update: Uint8Array; client: number; clock: number } => {
  const doc = new Y.Doc()
  doc.transact(() => {
    let map = doc.getMap('root')
    for (let i = 0; i < depth; i++) {
      const next = new Y.Map()
      map.set('k', next)
      map = next
    }
  })
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return { update, client: doc.clientID, clock: 0 }
}

/** The 9-byte update that deletes the one struct `client:clock` (no structs, one deleted range). */
export const deleteOf = (client: number, clock: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0)
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, clock)
  encoding.writeVarUint(e, 1)
  return encoding.toUint8Array(e)
}

/** An update whose one item names a later struct of its own client as its origin: Yjs trusts it and breaks. */
export const selfReferencingUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, 'ab')
  const decoded = Y.decodeUpdate(Y.encodeStateAsUpdate(doc))
  const item = decoded.structs[0] as Y.Item
  // Rewrite by hand: one item at clock 0 whose origin is clock 5 of the same client.
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // clients
  encoding.writeVarUint(e, 1) // structs of the client
  encoding.writeVarUint(e, item.id.client)
  encoding.writeVarUint(e, 0) // clock
  encoding.writeUint8(e, 4 | 0x80) // ContentString with an origin
  encoding.writeVarUint(e, item.id.client)
  encoding.writeVarUint(e, 5)
  encoding.writeVarString(e, 'x')
  encoding.writeVarUint(e, 0) // delete set: no clients
  return encoding.toUint8Array(e)
}
