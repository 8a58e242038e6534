import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import type { PeerContext } from './access.js'
import type { AppendMeta } from './change-log.js'

/**
 * The change-log metadata of one document's updates, computed as each is appended: who
 * sent it, and the document's state vector once it applies. Updates are applied only when
 * their append resolves, so several may be appended ahead of the document: the tracker
 * keeps the state vector including those, and counts each update's structs that follow on
 * from it (structs that wait for missing ones are not counted, as Yjs does not count them).
 */
export class AppendMetaTracker {
  private ahead: Map<number, number> | undefined

  metaOf(
    doc: Y.Doc,
    update: Uint8Array,
    decoded: ReturnType<typeof Y.decodeUpdate> | undefined,
    context: PeerContext | undefined,
  ): AppendMeta {
    // The document's state vector as a map, without encoding and decoding it (Y.getState per client).
    const sv = new Map<number, number>()
    for (const client of doc.store.clients.keys()) sv.set(client, Y.getState(doc.store, client))
    if (this.ahead !== undefined)
      for (const [client, clock] of this.ahead) if (clock > (sv.get(client) ?? 0)) sv.set(client, clock)
    for (const struct of (decoded ?? Y.decodeUpdate(update)).structs) {
      if (struct instanceof Y.Skip) continue
      const { client, clock } = struct.id
      const known = sv.get(client) ?? 0
      if (clock <= known) sv.set(client, Math.max(known, clock + struct.length))
    }
    this.ahead = sv
    return { who: context?.user, stateVector: encodeStateVector(sv) }
  }

  /** After a failed append: later ones failed too (see Store), so start again from the document. */
  reset(): void {
    this.ahead = undefined
  }
}

/** Encodes a state vector map as Yjs does (count, then client and clock pairs, highest client first). */
const encodeStateVector = (sv: Map<number, number>): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, sv.size)
  for (const [client, clock] of [...sv.entries()].sort((a, b) => b[0] - a[0])) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
  }
  return encoding.toUint8Array(encoder)
}
