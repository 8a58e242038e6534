import {
  type Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness'
import type { DocPresence, PresenceListener } from './doc-presence.js'

/**
 * The presence of a replica with presence of its own (a client): y-protocols' Awareness,
 * which the app sets its state on and binds editors to (Replica.awareness).
 */
export class AwarenessPresence implements DocPresence {
  constructor(readonly appAwareness: Awareness) {}

  get ownId(): number {
    return this.appAwareness.clientID
  }
  get size(): number {
    return this.appAwareness.getStates().size
  }
  has(id: number): boolean {
    return this.appAwareness.getStates().has(id)
  }
  clockOf(id: number): number | undefined {
    return this.appAwareness.meta.get(id)?.clock
  }
  ids(): number[] {
    return [...this.appAwareness.getStates().keys()]
  }
  states(): ReadonlyMap<number, unknown> {
    return this.appAwareness.getStates()
  }
  apply(update: Uint8Array, origin: unknown): void {
    applyAwarenessUpdate(this.appAwareness, update, origin)
  }
  remove(ids: readonly number[], origin: unknown): void {
    removeAwarenessStates(this.appAwareness, [...ids], origin)
  }
  encode(ids: readonly number[]): Uint8Array {
    return encodeAwarenessUpdate(this.appAwareness, [...ids])
  }
  onUpdate(listener: PresenceListener): () => void {
    this.appAwareness.on('update', listener)
    return () => this.appAwareness.off('update', listener)
  }
  destroy(): void {
    this.appAwareness.destroy()
  }
}
