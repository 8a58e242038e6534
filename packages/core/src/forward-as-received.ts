/**
 * Forward first, apply after. A relay passes a remote update on only once it is durable,
 * and until now only as the update its Y.Doc emitted when it applied it: the Yjs apply and
 * re-encoding sat between the append and the first socket write. An update that Yjs takes
 * whole, as it is, gives the same document applied from its received bytes as from that
 * re-encoding, so the relay sends the received bytes as soon as they are durable and applies
 * them to its Y.Doc right after, in the same turn: no other task sees one without the other,
 * and order per document holds (ReplicaDoc.applyRun).
 *
 * "Whole, as it is": nothing pending in the document, and the update brings each client's
 * structs from exactly where the document stands (no struct it already has, no gap), every
 * struct it refers to and every deletion it makes is in the document or in the update. Yjs
 * then integrates every struct and deletion of it at once, and its update event would carry
 * those same structs (deletions of deleted items aside, which change nothing for a reader).
 * Anything else (a run of several updates, pending content, an overlap, a gap) takes the
 * Y.Doc's update as before. The update passed the relay's checks (update-validation.ts)
 * before its append, so its bytes decode and integrate.
 */
import * as Y from 'yjs'
import type { ApplyingRun, DecodedUpdate } from './durable-apply.js'

/** True when `doc` takes `decoded` whole, as it is (see above): its received bytes may go out in place of the Y.Doc's update. */
export const takesWhole = (doc: Y.Doc, decoded: DecodedUpdate): boolean => {
  const store = doc.store
  if (store.pendingStructs !== null || store.pendingDs !== null) return false
  /** Per client of the update, the clock its structs reach (they start at the document's state). */
  const reach = new Map<number, number>()
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) return false
    const { client, clock } = struct.id
    if (clock !== (reach.get(client) ?? Y.getState(store, client))) return false
    reach.set(client, clock + struct.length)
  }
  const known = (id: Y.ID): boolean => id.clock < (reach.get(id.client) ?? Y.getState(store, id.client))
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue
    const parent = struct.parent as unknown
    if (struct.origin !== null && !known(struct.origin)) return false
    if (struct.rightOrigin !== null && !known(struct.rightOrigin)) return false
    if (parent instanceof Y.ID && !known(parent)) return false
  }
  for (const [client, ranges] of decoded.ds.clients) {
    for (const { clock, len } of ranges) if (len === 0 || !known(Y.createID(client, clock + len - 1))) return false
  }
  return true
}

/**
 * Sends a run of one update that `doc` takes whole with `send`, as received, before the run
 * is applied, and marks `run` so (ApplyingRun.sentAt, sentFirst). Any other run: nothing.
 */
export const forwardFirst = (
  doc: Y.Doc,
  run: ApplyingRun,
  updates: readonly Uint8Array[],
  decoded: ReadonlyArray<DecodedUpdate | undefined>,
  send: (update: Uint8Array) => void,
): void => {
  const only = decoded.length === 1 ? decoded[0] : undefined
  if (only === undefined || !takesWhole(doc, only)) return
  send(updates[0] as Uint8Array)
  run.sentAt = performance.now()
  run.sentFirst = true
}

/** True, once, for the document's update of a run that went out before its apply: it is not sent again. */
export const sentFirst = (run: ApplyingRun | undefined, origin: unknown): boolean => {
  if (run?.sentFirst !== true || origin !== run.origin) return false
  run.sentFirst = false
  return true
}
