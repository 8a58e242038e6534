/**
 * The drain probe: how the benchmark learns, from inside an anchor server, when a
 * document has applied and made durable a given state. The anchors have no
 * acknowledgement of durability on the wire, so their process answers over IPC.
 * The probe only reads; it costs the server nothing until asked.
 */
import type { StateVectorObject } from '../lib/state-vector.js'

export interface DrainRequest {
  type: 'drain'
  id: number
  doc: string
  want: StateVectorObject
}

export interface DrainReply {
  id: number
  /** Epoch ms (performance.timeOrigin + now) when the in-memory doc held `want`. */
  appliedAt: number
  /** Epoch ms when the persisted state held `want`. */
  durableAt: number
}

/** How often a probe re-checks while it waits, in ms. Default 5. */
export const PROBE_INTERVAL_MS = 5

export const epochNow = (): number => performance.timeOrigin + performance.now()

/** The state of a Y.Doc-like object per client, read from its struct store without importing yjs. */
export const storeState = (doc: {
  store: { clients: Map<number, Array<{ id: { clock: number }; length: number }>> }
}): Map<number, number> => {
  const sv = new Map<number, number>()
  for (const [client, structs] of doc.store.clients) {
    const last = structs[structs.length - 1]
    if (last !== undefined) sv.set(client, last.id.clock + last.length)
  }
  return sv
}

export const covers = (have: Map<number, number> | undefined, want: StateVectorObject): boolean => {
  if (have === undefined) return false
  for (const [client, clock] of Object.entries(want)) if ((have.get(Number(client)) ?? 0) < clock) return false
  return true
}

/** Polls `check` every PROBE_INTERVAL_MS until it holds. */
export const until = async (check: () => boolean): Promise<number> => {
  while (!check()) await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS))
  return epochNow()
}

/** Answers drain requests on the IPC channel with `drain`. */
export const serveDrainRequests = (drain: (req: DrainRequest) => Promise<Omit<DrainReply, 'id'>>): void => {
  const send = process.send?.bind(process)
  if (send === undefined) throw new Error('the drain probe needs an IPC channel (spawn with stdio "ipc")')
  process.on('message', (m: DrainRequest) => {
    if (m?.type !== 'drain') return
    drain(m).then(
      (r) => send({ id: m.id, ...r }),
      (err) => send({ id: m.id, error: String(err?.stack ?? err) }),
    )
  })
}
