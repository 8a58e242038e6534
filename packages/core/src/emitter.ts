// biome-ignore lint/suspicious/noExplicitAny: the listener shape lib0 declares for EVENTS
type Listener = (...args: any[]) => void

/** No listeners: the list every emitter starts with (shared, never changed). */
const NONE: ReadonlyArray<string | Listener> = Object.freeze([])

/**
 * lib0's ObservableV2 (same methods, same delivery), built for an object that exists once
 * per connection. lib0 keeps a Map of Sets (about 0.2 KiB each on a relay connection) and
 * copies an event's listeners into a new array at every emit; a link emits a 'message' for
 * every frame it receives. Here the listeners are one flat array of name and listener
 * pairs, replaced (never changed in place) when a listener comes or goes, so an emit runs
 * over the list it started with and copies nothing: a listener added while an event is
 * being emitted does not get it, one removed meanwhile still does, as with lib0.
 */
// biome-ignore lint/suspicious/noExplicitAny: the constraint lib0 declares for EVENTS
export class Emitter<EVENTS extends { [key in keyof EVENTS]: (...args: any[]) => void }> {
  /** name, listener, name, listener, … in the order they were added. */
  #listeners: ReadonlyArray<string | Listener> = NONE

  /** Adds `f` for `name` (once: adding it again changes nothing) and returns it. */
  on<NAME extends keyof EVENTS & string>(name: NAME, f: EVENTS[NAME]): EVENTS[NAME] {
    // concat sizes the new array exactly (a spread leaves room to grow, kept per connection).
    if (this.#indexOf(name, f) < 0) this.#listeners = this.#listeners.concat([name, f])
    return f
  }

  /** Adds `f` for the next `name` only. */
  once<NAME extends keyof EVENTS & string>(name: NAME, f: EVENTS[NAME]): void {
    const once = ((...args: Parameters<EVENTS[NAME]>) => {
      this.off(name, once)
      f(...args)
    }) as EVENTS[NAME]
    this.on(name, once)
  }

  off<NAME extends keyof EVENTS & string>(name: NAME, f: EVENTS[NAME]): void {
    const at = this.#indexOf(name, f)
    if (at < 0) return
    const rest = this.#listeners.slice(0, at).concat(this.#listeners.slice(at + 2))
    this.#listeners = rest.length === 0 ? NONE : rest
  }

  emit<NAME extends keyof EVENTS & string>(name: NAME, args: Parameters<EVENTS[NAME]>): void {
    const listeners = this.#listeners
    for (let i = 0; i < listeners.length; i += 2) {
      if (listeners[i] === name) (listeners[i + 1] as Listener)(...args)
    }
  }

  /** Drops every listener. */
  destroy(): void {
    this.#listeners = NONE
  }

  #indexOf(name: string, f: Listener): number {
    const listeners = this.#listeners
    for (let i = 0; i < listeners.length; i += 2) {
      if (listeners[i] === name && listeners[i + 1] === f) return i
    }
    return -1
  }
}
