import * as decoding from 'lib0/decoding'

/**
 * The client ids an awareness update speaks for, split into those it sets and those it
 * removes (state `null`). Throws on malformed bytes.
 */
export const readAwarenessClients = (update: Uint8Array): { present: number[]; removed: number[] } => {
  const decoder = decoding.createDecoder(update)
  const present: number[] = []
  const removed: number[] = []
  const count = decoding.readVarUint(decoder)
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(decoder)
    decoding.readVarUint(decoder) // clock
    const state = decoding.readVarString(decoder)
    if (state === 'null') removed.push(client)
    else present.push(client)
  }
  return { present, removed }
}
