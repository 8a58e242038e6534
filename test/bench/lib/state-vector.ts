import * as Y from 'yjs'

/** A state vector as a plain object (client id → clock), to pass over IPC or print. */
export type StateVectorObject = Record<string, number>

export const svObject = (sv: Uint8Array): StateVectorObject => {
  const out: StateVectorObject = {}
  for (const [client, clock] of Y.decodeStateVector(sv)) out[String(client)] = clock
  return out
}

/** True when state `have` includes every struct of state `want`. */
export const svCovers = (have: StateVectorObject | Map<number, number>, want: StateVectorObject): boolean => {
  for (const [client, clock] of Object.entries(want)) {
    const got = have instanceof Map ? (have.get(Number(client)) ?? 0) : (have[client] ?? 0)
    if (got < clock) return false
  }
  return true
}

/** The state vector of a loaded doc as a Map, without encoding. */
export const docSv = (doc: Y.Doc): Map<number, number> => {
  const sv = new Map<number, number>()
  for (const client of doc.store.clients.keys()) sv.set(client, Y.getState(doc.store, client))
  return sv
}
