import type { Store } from '@converge/core'

/**
 * A Store that counts the writes still in flight to the store it wraps, so the app can
 * say "saved on this device" and wait for it (`whenWritten`). Every call is passed on.
 */
export class WatchedStore implements Store {
  readonly inner: Store
  /** Appends not yet durable in the inner store. */
  pending = 0
  private waiters: Array<() => void> = []
  private readonly onPending: (pending: number) => void

  constructor(inner: Store, onPending: (pending: number) => void = () => undefined) {
    this.inner = inner
    this.onPending = onPending
  }

  append(doc: string, update: Uint8Array): Promise<void> {
    this.pending++
    if (this.pending === 1) this.onPending(this.pending)
    const done = () => {
      this.pending--
      if (this.pending > 0) return
      this.onPending(0)
      const waiters = this.waiters
      this.waiters = []
      for (const w of waiters) w()
    }
    const written = this.inner.append(doc, update)
    written.then(done, done)
    return written
  }

  /** Resolves once every append made so far is durable (or failed). */
  whenWritten(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  load(doc: string) {
    return this.inner.load(doc)
  }
  stateVector(doc: string) {
    return this.inner.stateVector(doc)
  }
  digest(doc: string) {
    return this.inner.digest(doc)
  }
  compact(doc: string) {
    return this.inner.compact(doc)
  }
  list() {
    return this.inner.list()
  }
  delete(doc: string) {
    return this.inner.delete(doc)
  }
  close() {
    return this.inner.close()
  }
}
