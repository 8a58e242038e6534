/**
 * A relay's presence of one document: per client id its clock, its state as JSON text
 * (undefined once removed; the clock stays, so an older state cannot come back) and when
 * it was last renewed. It takes, removes, times out and encodes states exactly as
 * y-protocols' Awareness does (same accept rules, same change events, same bytes), without
 * what a relay never uses: a state of its own, a timer per document (one PresenceSweep
 * serves them all), a Y.Doc, 'change' events, and decoded state objects (a state is decoded
 * only when states() asks for it, e.g. for the relay's onAwareness hook, and kept until it changes).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { AwarenessChange, DocPresence, PresenceListener } from './doc-presence.js'
import type { Outdating, PresenceSweep } from './presence-sweep.js'

interface Entry {
  clock: number
  /** JSON text of the state (JSON.stringify of what the update held); undefined: removed. */
  state: string | undefined
  /** When the state was last set or renewed (Date.now()). */
  at: number
  /** When the id was first seen (a count): timeouts go in that order, as y-protocols' meta is iterated. */
  seen: number
  /** The state decoded, once states() was asked for it (undefined: not yet, or changed since). */
  decoded: unknown
}

/** An entry of an update, decoded (its state parsed: a malformed one throws before anything changes). */
interface Incoming {
  client: number
  clock: number
  state: unknown
}

/** States y-protocols stores but encodes as `null` (its encoder writes `state || null`). */
const FALSY_JSON = new Set(['false', '0', '""'])

export class PresenceTable implements DocPresence, Outdating {
  readonly ownId = undefined
  readonly appAwareness = undefined
  private readonly entries = new Map<number, Entry>()
  private listeners: PresenceListener[]
  /** Number of entries with a state. */
  private live = 0
  /** Ids seen so far. */
  private seenIds = 0

  constructor(
    private readonly sweeper: PresenceSweep,
    listener?: PresenceListener,
  ) {
    this.listeners = listener === undefined ? [] : [listener]
    sweeper.add(this)
  }

  get size(): number {
    return this.live
  }
  has(id: number): boolean {
    return this.entries.get(id)?.state !== undefined
  }
  clockOf(id: number): number | undefined {
    return this.entries.get(id)?.clock
  }
  ids(): number[] {
    const ids: number[] = []
    for (const [id, e] of this.entries) if (e.state !== undefined) ids.push(id)
    return ids
  }
  states(): ReadonlyMap<number, unknown> {
    const states = new Map<number, unknown>()
    for (const [id, e] of this.entries) {
      if (e.state === undefined) continue
      // Decoded once per state: a relay's onAwareness hook asks for every state on every change.
      e.decoded ??= JSON.parse(e.state)
      states.set(id, e.decoded)
    }
    return states
  }

  apply(update: Uint8Array, origin: unknown): void {
    const incoming = decodeUpdate(update)
    const now = Date.now()
    const change: AwarenessChange = { added: [], updated: [], removed: [] }
    for (const { client, clock, state } of incoming) {
      const entry = this.entries.get(client)
      const known = entry?.clock ?? 0
      const present = entry?.state !== undefined
      // y-protocols' rule: a newer clock, or a removal at the same clock of a present state.
      if (!(known < clock || (known === clock && state === null && present))) continue
      const text = state === null ? undefined : JSON.stringify(state)
      if (entry === undefined) {
        this.entries.set(client, { clock, state: text, at: now, seen: this.seenIds++, decoded: undefined })
        if (text !== undefined) change.added.push(client)
      } else {
        entry.clock = clock
        entry.state = text
        entry.decoded = undefined
        entry.at = now
        // A state back after its removal comes last, as in y-protocols' states (their order is the encoded order).
        if (!present && text !== undefined) {
          this.entries.delete(client)
          this.entries.set(client, entry)
        }
        // As y-protocols: a seen client is 'updated' when set (even after its removal), 'removed' when cleared.
        if (text === undefined) change.removed.push(client)
        else change.updated.push(client)
      }
      if (text === undefined) {
        if (present) this.live--
      } else if (!present) this.live++
    }
    this.emit(change, origin)
  }

  remove(ids: readonly number[], origin: unknown): void {
    const removed: number[] = []
    for (const id of ids) {
      const entry = this.entries.get(id)
      if (entry?.state === undefined) continue
      entry.state = undefined
      entry.decoded = undefined
      this.live--
      removed.push(id)
    }
    this.emit({ added: [], updated: [], removed }, origin)
  }

  encode(ids: readonly number[]): Uint8Array {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, ids.length)
    for (const id of ids) {
      const entry = this.entries.get(id)
      // As y-protocols' encoder, which reads the clock of an id it has never seen and throws.
      if (entry === undefined) throw new TypeError(`no presence known for client ${id}`)
      encoding.writeVarUint(encoder, id)
      encoding.writeVarUint(encoder, entry.clock)
      const state = entry.state
      encoding.writeVarString(encoder, state === undefined || FALSY_JSON.has(state) ? 'null' : state)
    }
    return encoding.toUint8Array(encoder)
  }

  onUpdate(listener: PresenceListener): () => void {
    this.listeners = [...this.listeners, listener]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  sweep(now: number, timeoutMs: number): void {
    if (this.live === 0) return
    const outdated: [number, Entry][] = []
    for (const item of this.entries)
      if (item[1].state !== undefined && now - item[1].at >= timeoutMs) outdated.push(item)
    if (outdated.length === 0) return
    outdated.sort((a, b) => a[1].seen - b[1].seen)
    this.remove(
      outdated.map(([id]) => id),
      'timeout',
    )
  }

  destroy(): void {
    this.sweeper.delete(this)
    this.listeners = []
  }

  private emit(change: AwarenessChange, origin: unknown): void {
    if (change.added.length === 0 && change.updated.length === 0 && change.removed.length === 0) return
    // Listeners added or removed meanwhile take effect from the next change (as y-protocols' Observable).
    for (const listener of this.listeners) listener(change, origin)
  }
}

/** The entries of an awareness update, each state parsed (lib0's string decoding, as y-protocols). */
const decodeUpdate = (update: Uint8Array): Incoming[] => {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const incoming: Incoming[] = []
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    incoming.push({ client, clock, state: JSON.parse(decoding.readVarString(decoder)) })
  }
  return incoming
}
