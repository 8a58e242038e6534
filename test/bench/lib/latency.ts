import * as Y from 'yjs'
import { latencySummary } from './stats.js'
import { sleep, waitFor } from './wait.js'

export interface LatencyOptions {
  /** Updates measured, one character each. */
  updates: number
  /** Updates sent first and not measured (JIT warm-up, first-message costs). */
  warmupUpdates: number
  /** Updates per second. */
  rate: number
  /** Longest wait for every reader to receive the last update, in ms. */
  settleTimeout: number
  /** Characters typed, in order (the trace's text). */
  text: string
}

/**
 * Types one character per update into `writer` at `rate`, and notes when each update
 * reaches each of `readers` (Y.Docs synced through the servers under test, in this
 * process). Returns, per reader, the latencies (ms) of the measured updates.
 *
 * An update is recognised by the writer's clock: a one-character insert advances it by
 * one, so when a reader's state for the writer reaches k + 1, update k has arrived.
 */
export const measureLatencies = async (
  writer: Y.Doc,
  readers: Y.Doc[],
  options: LatencyOptions,
): Promise<number[][]> => {
  const total = options.warmupUpdates + options.updates
  const writerId = writer.clientID
  const base = Y.getState(writer.store, writerId)
  const sentAt = new Float64Array(total)
  const receivedAt = readers.map(() => new Float64Array(total).fill(Number.NaN))
  const listeners = readers.map((reader, r) => {
    let seen = Y.getState(reader.store, writerId) - base
    const listener = () => {
      const now = performance.now()
      const clock = Y.getState(reader.store, writerId) - base
      const times = receivedAt[r] as Float64Array
      for (let k = Math.max(0, seen); k < clock && k < total; k++) times[k] = now
      seen = Math.max(seen, clock)
    }
    reader.on('update', listener)
    return listener
  })
  const text = writer.getText('text')
  const chars = options.text.length > 0 ? options.text : 'typing '
  const interval = 1000 / options.rate
  const start = performance.now()
  for (let k = 0; k < total; k++) {
    // Paced against the start, so one late timer does not slow the whole run down.
    const wait = start + k * interval - performance.now()
    if (wait > 0) await sleep(wait)
    sentAt[k] = performance.now()
    text.insert(text.length, chars[k % chars.length] as string)
  }
  try {
    await waitFor(() => receivedAt.every((t) => !Number.isNaN(t[total - 1] as number)), {
      timeout: options.settleTimeout,
      what: 'every reader to receive the last update',
    })
  } finally {
    readers.forEach((reader, r) => {
      reader.off('update', listeners[r] as () => void)
    })
  }
  return receivedAt.map((times) => {
    const out: number[] = []
    for (let k = options.warmupUpdates; k < total; k++) out.push((times[k] as number) - (sentAt[k] as number))
    return out
  })
}

/** Per delivery and per update (until the last reader had it), summarised. */
export const summarizeLatencies = (perReader: number[][]) => {
  const delivery = perReader.flat()
  const updates = perReader[0]?.length ?? 0
  const lastReader: number[] = []
  for (let k = 0; k < updates; k++) lastReader.push(Math.max(...perReader.map((l) => l[k] as number)))
  return { delivery: latencySummary(delivery), lastReader: latencySummary(lastReader) }
}
