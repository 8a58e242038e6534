import type { PendingChange } from './level-change-log.js'
import type { LogChunkWriter } from './log-chunk.js'

/** Appends made within one turn: one LevelDB batch, one promise shared by its appends. */
export interface Batch {
  docs: Map<string, LogChunkWriter>
  /** Every append in order, for the change log (empty without one). */
  changes: PendingChange[]
  count: number
  bytes: number
  /** Settles when the appends are durable (journaled, or written to LevelDB), or failed. */
  done: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
  /** Settles once LevelDB holds the batch or its write failed (later than `done` for a journaled batch); never rejects. */
  stored: Promise<void>
  markStored: () => void
}

/** An empty batch, with its promise. */
export const newBatch = (): Batch => {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const done = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  let markStored!: () => void
  const stored = new Promise<void>((res) => {
    markStored = res
  })
  return { docs: new Map(), changes: [], count: 0, bytes: 0, done, resolve, reject, stored, markStored }
}
