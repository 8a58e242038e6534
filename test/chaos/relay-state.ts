import * as Y from 'yjs'
import { ADMIN_TOKEN } from '../helpers/admin.js'
import type { RelayProcess } from '../helpers/relay-process.js'
import type { ReplicaState } from './client-process.js'

/** A relay's stored state of a chaos document (a Y.Array 'array'), through its admin API. */
export const relayState = async (relay: RelayProcess, doc: string): Promise<ReplicaState> => {
  const res = await fetch(`${relay.httpUrl}/api/docs/${doc}/update`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  if (res.status !== 200 && res.status !== 404) throw new Error(`relay ${relay.port}: admin API answered ${res.status}`)
  const ydoc = new Y.Doc()
  if (res.status === 200) Y.applyUpdate(ydoc, new Uint8Array(await res.arrayBuffer()))
  return { array: ydoc.getArray<string>('array').toArray(), stateVector: Y.encodeStateVector(ydoc) }
}

/** Same array and same state vector. */
export const sameState = (a: ReplicaState, b: ReplicaState): boolean =>
  Buffer.compare(a.stateVector, b.stateVector) === 0 && JSON.stringify(a.array) === JSON.stringify(b.array)
