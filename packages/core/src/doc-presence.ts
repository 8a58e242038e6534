/**
 * A document's presence (awareness): the states its clients announce, with y-protocols'
 * rules (awareness protocol: a state replaces another only with a higher clock, a `null`
 * state removes its client, a state not renewed within `outdatedTimeout` times out).
 * Two implementations, chosen in one place (new-presence.ts): a replica with presence of
 * its own (a client, whose app binds an editor to it) keeps y-protocols' Awareness
 * (awareness-presence.ts); a relay, which has none and only passes everyone's on, keeps a
 * compact table per document swept by one timer per replica (presence-table.ts).
 */
import type { Awareness } from 'y-protocols/awareness'

/** What an awareness 'update' event reports. */
export interface AwarenessChange {
  added: number[]
  updated: number[]
  removed: number[]
}

/** Called on every change, as y-protocols' Awareness 'update' event: the change and its origin. */
export type PresenceListener = (change: AwarenessChange, origin: unknown) => void

export interface DocPresence {
  /** This replica's own presence id; undefined on a relay, which sets no state of its own. */
  readonly ownId: number | undefined
  /** The app's y-protocols Awareness (a replica with presence of its own); undefined on a relay. */
  readonly appAwareness: Awareness | undefined
  /** Number of clients with a state. */
  readonly size: number
  /** True when `id` has a state. */
  has(id: number): boolean
  /** The clock known for `id`, also once its state is removed; undefined for an id never seen. */
  clockOf(id: number): number | undefined
  /** The ids with a state. */
  ids(): number[]
  /** The states, decoded (on a relay: a new Map each call). */
  states(): ReadonlyMap<number, unknown>
  /**
   * Applies an encoded awareness update as y-protocols' applyAwarenessUpdate does, then
   * tells the listeners (with `origin`). Throws on malformed bytes.
   */
  apply(update: Uint8Array, origin: unknown): void
  /** Removes the states of `ids` (their clocks stay), as y-protocols' removeAwarenessStates does. */
  remove(ids: readonly number[], origin: unknown): void
  /** The encoded awareness update of `ids` (each must have been seen), as y-protocols' encodeAwarenessUpdate. */
  encode(ids: readonly number[]): Uint8Array
  /** Adds a listener; returns what removes it. */
  onUpdate(listener: PresenceListener): () => void
  /** Frees it: no timer, no listener is left. */
  destroy(): void
}
