import * as Y from 'yjs'

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/**
 * True when applying the update would change nothing in `doc`: every struct is already
 * integrated and every deletion already done. Such an update needs no write: a relay
 * mesh delivers the same update along several paths, and a reconnecting peer's sync
 * step 2 repeats its whole delete set.
 */
export const isRedundantUpdate = (doc: Y.Doc, decoded: DecodedUpdate): boolean => {
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue
    if (struct.id.clock + struct.length > Y.getState(doc.store, struct.id.client)) return false
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const structs = doc.store.clients.get(client)
    const state = Y.getState(doc.store, client)
    for (const { clock, len } of ranges) {
      if (len === 0) continue
      if (structs === undefined || clock + len > state) return false
      const end = clock + len
      for (let i = Y.findIndexSS(structs, clock); i < structs.length; i++) {
        const struct = structs[i] as Y.Item | Y.GC
        if (struct.id.clock >= end) break
        if (!struct.deleted) return false
      }
    }
  }
  return true
}
