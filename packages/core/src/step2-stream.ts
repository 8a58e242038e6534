import type * as Y from 'yjs'
import { DiffSplitter } from './split-diff.js'

/** Where a streamed sync answer goes (a DocSession). */
export interface Step2Sink {
  /** Sends one part, as an update that covers no local change. */
  part(update: Uint8Array): void
  /** Sends the sync step 2 proper, which covers every local change made so far. */
  step2(update: Uint8Array): void
  /** Bytes queued on the connection, not yet handed to the network; undefined where unknown. */
  bufferedAmount(): number | undefined
  /** The session ended: stop. */
  ended(): boolean
}

/** How often a sender waiting for its queue to drain looks again, in ms. */
const DRAIN_POLL_MS = 10

/**
 * Answers a sync step 1 with state vector `sv` from the loaded `doc`. A diff that fits in
 * `maxBytes` goes as it is, the step 2, in this turn. A larger one (an offline queue, a
 * big document) goes in parts (DiffSplitter), one part per turn of the event loop and
 * only while the connection's queue holds less than one part, so the sender's event loop
 * stays free (heartbeats, pongs, other peers) however large the diff, its memory holds
 * about one part, and the receiver's flow control paces the whole exchange; then the
 * step 2: the diff since what the parts covered (`diff(covered)`: the deletions and any
 * change made meanwhile). Returns a promise that settles once the step 2 was sent, or
 * the session ended.
 */
export const streamStep2 = (
  doc: Y.Doc,
  sv: Uint8Array,
  maxBytes: number,
  diff: (since: Uint8Array) => Uint8Array,
  sink: Step2Sink,
): Promise<void> => {
  const splitter = new DiffSplitter(doc, sv, maxBytes)
  const first = splitter.next()
  if (first === undefined || splitter.done) {
    // Everything fits in one part: the ordinary answer, unless its deletions make it too big.
    const whole = diff(sv)
    if (first === undefined || whole.length <= maxBytes) {
      sink.step2(whole)
      return Promise.resolve()
    }
    sink.part(first)
    sink.step2(diff(splitter.covered()))
    return Promise.resolve()
  }
  sink.part(first)
  return new Promise((resolve) => {
    const pump = () => {
      if (sink.ended()) {
        resolve()
        return
      }
      if ((sink.bufferedAmount() ?? 0) >= maxBytes) {
        setTimeout(pump, DRAIN_POLL_MS)
        return
      }
      const part = splitter.next()
      if (part === undefined) {
        sink.step2(diff(splitter.covered()))
        resolve()
        return
      }
      sink.part(part)
      setTimeout(pump, 0)
    }
    setTimeout(pump, 0)
  })
}
