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
 * One entry of an awareness update, located in the update's bytes but not decoded: the
 * whole entry (client, clock, state) is `start`–`end`, its state's JSON text
 * `stateStart`–`end`. Reading the clock first lets a relay drop an entry no newer than
 * what it knows (an echo) without decoding its state.
 */
export interface AwarenessEntryRef {
  client: number
  clock: number
  start: number
  stateStart: number
  end: number
}

/**
 * The entries of an awareness update, their states left undecoded (see
 * `checkAwarenessState`). Throws on malformed bytes: a count, id, clock or length past
 * the end, or a state longer than the bytes left.
 */
export const scanAwarenessEntries = (update: Uint8Array): AwarenessEntryRef[] => {
  const decoder = decoding.createDecoder(update)
  const entries: AwarenessEntryRef[] = []
  const count = decoding.readVarUint(decoder)
  for (let i = 0; i < count; i++) {
    const start = decoder.pos
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const length = decoding.readVarUint(decoder)
    const stateStart = decoder.pos
    const end = stateStart + length
    if (end > update.length) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'awareness state exceeds its bytes')
    decoder.pos = end
    entries.push({ client, clock, start, stateStart, end })
  }
  return entries
}

/** The bytes of the JSON text `null`: the state of a removed client. */
const NULL_STATE = [0x6e, 0x75, 0x6c, 0x6c]

/** True when the entry removes its client (its state is `null`). */
export const isRemoval = (update: Uint8Array, e: AwarenessEntryRef): boolean =>
  e.end - e.stateStart === 4 &&
  update[e.stateStart] === NULL_STATE[0] &&
  update[e.stateStart + 1] === NULL_STATE[1] &&
  update[e.stateStart + 2] === NULL_STATE[2] &&
  update[e.stateStart + 3] === NULL_STATE[3]

/** Decodes as lib0's `readVarString` does (y-protocols reads states with it): invalid UTF-8 throws. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Checks the state of an entry that is going to be applied, as `applyAwarenessUpdate`
 * will read it: valid UTF-8 and nested no deeper than MAX_AWARENESS_DEPTH. Throws
 * CONVERGE_MALFORMED_MESSAGE otherwise.
 */
export const checkAwarenessState = (update: Uint8Array, e: AwarenessEntryRef): void => {
  let state: string
  try {
    state = utf8.decode(update.subarray(e.stateStart, e.end))
  } catch (cause) {
    throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'awareness state is not UTF-8', { cause })
  }
  if (jsonDepth(state) > MAX_AWARENESS_DEPTH) {
    throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `awareness state nested deeper than ${MAX_AWARENESS_DEPTH}`)
  }
}

/** The awareness update of some of `update`'s entries, their bytes copied as they are. */
export const awarenessSubset = (update: Uint8Array, entries: AwarenessEntryRef[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const e of entries) encoding.writeUint8Array(encoder, update.subarray(e.start, e.end))
  return encoding.toUint8Array(encoder)
}

/**
 * The client ids an awareness update speaks for, split into those it sets and those it
 * removes (state `null`). Throws on malformed bytes and on states that are not UTF-8 or
 * are nested deeper than MAX_AWARENESS_DEPTH.
 */
export const readAwarenessClients = (update: Uint8Array): { present: number[]; removed: number[] } => {
  const present: number[] = []
  const removed: number[] = []
  for (const e of scanAwarenessEntries(update)) {
    checkAwarenessState(update, e)
    if (isRemoval(update, e)) removed.push(e.client)
    else present.push(e.client)
  }
  return { present, removed }
}

/** One state of an awareness update. `state` is JSON text ('null' removes the client). */
export interface AwarenessEntry {
  client: number
  clock: number
  state: string
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
