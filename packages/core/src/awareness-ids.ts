import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ConvergeError } from './errors.js'

/**
 * Deepest nesting of arrays and objects accepted in an awareness state. Real presence
 * (a user, a cursor, a selection) is a few levels deep; a state nested thousands deep
 * parses but overflows the stack when re-encoded, which would fail every session that
 * later receives the document's presence.
 */
export const MAX_AWARENESS_DEPTH = 64

/** Nesting depth of a JSON text, counting brackets outside strings. */
const jsonDepth = (json: string): number => {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth)
    else if (c === 0x5d || c === 0x7d) depth--
  }
  return max
}

/**
 * The client ids an awareness update speaks for, split into those it sets and those it
 * removes (state `null`). Throws on malformed bytes and on states nested deeper than
 * MAX_AWARENESS_DEPTH.
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
    if (jsonDepth(state) > MAX_AWARENESS_DEPTH) {
      throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `awareness state nested deeper than ${MAX_AWARENESS_DEPTH}`)
    }
    if (state === 'null') removed.push(client)
    else present.push(client)
  }
  return { present, removed }
}

/** One state of an awareness update. `state` is JSON text ('null' removes the client). */
export interface AwarenessEntry {
  client: number
  clock: number
  state: string
}

/** The entries of an awareness update. Throws on malformed bytes and on states nested deeper than MAX_AWARENESS_DEPTH. */
export const readAwarenessEntries = (update: Uint8Array): AwarenessEntry[] => {
  const decoder = decoding.createDecoder(update)
  const entries: AwarenessEntry[] = []
  const count = decoding.readVarUint(decoder)
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const state = decoding.readVarString(decoder)
    if (jsonDepth(state) > MAX_AWARENESS_DEPTH) {
      throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `awareness state nested deeper than ${MAX_AWARENESS_DEPTH}`)
    }
    entries.push({ client, clock, state })
  }
  return entries
}

/** An awareness update of `entries` (y-protocols' encoding). */
export const encodeAwarenessEntries = (entries: AwarenessEntry[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const e of entries) {
    encoding.writeVarUint(encoder, e.client)
    encoding.writeVarUint(encoder, e.clock)
    encoding.writeVarString(encoder, e.state)
  }
  return encoding.toUint8Array(encoder)
}
