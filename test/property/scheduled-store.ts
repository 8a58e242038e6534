import type { MemoryStore, Store } from '@converge/core'
import type fc from 'fast-check'

/**
 * A Store over a MemoryStore whose answers reach the replica when the fast-check
 * scheduler says so. The MemoryStore decides what is durable (its `flush()`); the
 * scheduler decides when the replica hears about it, so a run explores the races
 * between storage writes, loads and message delivery, and replays them from the seed.
 *
 * A task is handed to the scheduler only once the store has answered: an append that a
 * crash dropped never settles, and a scheduled task that never settles would stall it.
 * Failures are not held back: Store keeps appends in order by failing what is appended
 * in the turn a failure is reported, which holds only if it is reported when it happens.
 */
export class ScheduledStore implements Store {
  readonly inner: MemoryStore
  private readonly scheduler: fc.Scheduler
  private readonly label: string
  /** Called when an append became durable, with what was appended. */
  private readonly onDurable: ((doc: string, update: Uint8Array) => void) | undefined

  constructor(
    inner: MemoryStore,
    scheduler: fc.Scheduler,
    label: string,
    onDurable?: (doc: string, update: Uint8Array) => void,
  ) {
    this.inner = inner
    this.scheduler = scheduler
    this.label = label
    this.onDurable = onDurable
  }

  private release<T>(answer: Promise<T>, what: string): Promise<T> {
    return answer.then((value) => this.scheduler.schedule(Promise.resolve(value), `${this.label}.${what}`))
  }

  load(doc: string): Promise<Uint8Array | undefined> {
    return this.release(this.inner.load(doc), `load(${doc})`)
  }

  append(doc: string, update: Uint8Array): Promise<void> {
    const copy = update.slice()
    return this.release(
      this.inner.append(doc, update).then(() => this.onDurable?.(doc, copy)),
      `append(${doc})`,
    )
  }

  stateVector(doc: string): Promise<Uint8Array> {
    return this.release(this.inner.stateVector(doc), `stateVector(${doc})`)
  }

  digest(doc: string): Promise<Uint8Array> {
    return this.release(this.inner.digest(doc), `digest(${doc})`)
  }

  compact(doc: string): Promise<void> {
    return this.release(this.inner.compact(doc), `compact(${doc})`)
  }

  list(): Promise<string[]> {
    return this.release(this.inner.list(), 'list')
  }

  delete(doc: string): Promise<void> {
    return this.release(this.inner.delete(doc), `delete(${doc})`)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
