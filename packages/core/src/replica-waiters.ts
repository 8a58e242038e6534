import { ConvergeError } from './errors.js'

// The promises of whenSynced/whenSaved waiting for a condition of a replica.

interface Waiter {
  ready: () => boolean
  /** Resolves the wait, or rejects it with `err`. */
  settle: (err?: Error) => void
  what: string
}

/** Waits for conditions that the replica re-checks whenever a document's status may have changed. */
export class Waiters {
  readonly #waiters = new Set<Waiter>()
  /** Whether the replica was destroyed: a wait then rejects at once. */
  readonly #destroyed: () => boolean

  constructor(destroyed: () => boolean) {
    this.#destroyed = destroyed
  }

  /**
   * Resolves once `ready()` holds (checked now and on every check()); rejects after
   * `timeout` ms if given, and when the replica is destroyed first.
   */
  wait(ready: () => boolean, timeout: number | undefined, what: string): Promise<void> {
    if (this.#destroyed()) return Promise.reject(destroyedError(what))
    if (ready()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const settle = (err?: Error) => {
        if (timer !== undefined) clearTimeout(timer)
        this.#waiters.delete(waiter)
        if (err === undefined) resolve()
        else reject(err)
      }
      const waiter: Waiter = { ready, settle, what }
      this.#waiters.add(waiter)
      if (timeout !== undefined) {
        timer = setTimeout(() => settle(new ConvergeError('CONVERGE_TIMEOUT', `${what} within ${timeout} ms`)), timeout)
      }
    })
  }

  /** Resolves every wait whose condition now holds. */
  check(): void {
    for (const w of this.#waiters) if (w.ready()) w.settle()
  }

  /** The replica was destroyed: every pending wait rejects with CONVERGE_REPLICA_DESTROYED. */
  rejectAll(): void {
    for (const w of [...this.#waiters]) w.settle(destroyedError(w.what))
  }
}

const destroyedError = (what: string) =>
  new ConvergeError('CONVERGE_REPLICA_DESTROYED', `${what}: the replica was destroyed`)
