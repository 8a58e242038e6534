/**
 * y-websocket sync frames as a stock client writes them (message type 0, then a y-protocols
 * sync message), made with y-protocols itself rather than converge's codec: tests that play
 * a stock client, or send crafted bytes, do not lean on the code they test.
 */
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

/** y-websocket's message type of a sync message. */
export const SYNC = 0

/** A sync frame whose y-protocols message `write` writes. */
export const stockSyncFrame = (write: (e: encoding.Encoder) => void): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, SYNC)
  write(e)
  return encoding.toUint8Array(e)
}

/** A sync step 1 with `doc`'s state vector (an empty document's by default). */
export const stockStep1 = (doc: Y.Doc = new Y.Doc()): Uint8Array =>
  stockSyncFrame((e) => syncProtocol.writeSyncStep1(e, doc))

/** A frame carrying `update` as it is: an update message, or a sync step 2. */
export const stockUpdate = (update: Uint8Array, step2 = false): Uint8Array =>
  stockSyncFrame((e) => {
    encoding.writeVarUint(e, step2 ? syncProtocol.messageYjsSyncStep2 : syncProtocol.messageYjsUpdate)
    encoding.writeVarUint8Array(e, update)
  })
