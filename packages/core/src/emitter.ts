import { ObservableV2 } from 'lib0/observable'

/**
 * lib0's ObservableV2 with a cheaper `emit`. lib0 copies the listeners of an event into a
 * new array at every emit; a link emits a 'message' for every frame it receives, to its
 * one listener (the document router), and that copy was the largest single cost of a
 * relay taking in an echoed presence message (test/bench servers/presence-echo-cost.ts).
 * Same semantics: a listener added while an event is being emitted does not get it, one
 * removed meanwhile still does.
 */
// biome-ignore lint/suspicious/noExplicitAny: the constraint lib0 declares for EVENTS
export class Emitter<EVENTS extends { [key in keyof EVENTS]: (...args: any[]) => void }> extends ObservableV2<EVENTS> {
  override emit<NAME extends keyof EVENTS & string>(name: NAME, args: Parameters<EVENTS[NAME]>): void {
    const listeners = this._observers.get(name)
    if (listeners === undefined) return
    if (listeners.size === 1) {
      const only = listeners.values().next().value as EVENTS[NAME]
      only(...args)
      return
    }
    for (const f of [...listeners] as EVENTS[NAME][]) f(...args)
  }
}
