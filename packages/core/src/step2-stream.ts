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

/** An answer to a sync step 1, as streamAnswer reads it (a SyncAnswer, sync-answer.ts). */
export interface StreamedAnswer {
  /** The size parts are cut to: a connection holding this much unsent waits for the next. */
  readonly maxBytes: number
  /** The part at `index`, or undefined when every part came before it. */
  part(index: number): Uint8Array | undefined
  /** The step 2 after the last part: the diff since what the parts covered, as of now. */
  step2(): Uint8Array
}

/** How often a sender waiting for its queue to drain looks again, in ms. */
const DRAIN_POLL_MS = 10

/**
 * Sends `answer` to `sink`. An answer without parts goes as it is, the step 2, in this
 * turn. A larger one goes in parts, one part per turn of the event loop and only while
 * the connection's queue holds less than one part, so the sender's event loop stays free
 * (heartbeats, pongs, other peers) however large the diff, and the receiver's flow control
 * paces the whole exchange; then the step 2, made or checked current in the turn it is
 * sent (it carries the deletions and every change made meanwhile). Returns a promise that
 * settles once the step 2 was sent, or the session ended; it rejects, and nothing throws,
 * when the answer or the sink fails, in this turn or a later one.
 */
export const streamAnswer = (answer: StreamedAnswer, sink: Step2Sink): Promise<void> => {
  let first: Uint8Array | undefined
  try {
    first = answer.part(0)
    if (first === undefined) {
      sink.step2(answer.step2())
      return Promise.resolve()
    }
    sink.part(first)
  } catch (err) {
    return Promise.reject(err)
  }
  let next = 1
  return new Promise((resolve, reject) => {
    const pump = () => {
      if (sink.ended()) {
        resolve()
        return
      }
      if ((sink.bufferedAmount() ?? 0) >= answer.maxBytes) {
        setTimeout(pump, DRAIN_POLL_MS)
        return
      }
      // A failure while cutting a part or making the step 2 (a timer's turn: nothing
      // above would catch it, and the process would die) fails this answer alone.
      try {
        const part = answer.part(next)
        if (part === undefined) {
          sink.step2(answer.step2())
          resolve()
          return
        }
        next++
        sink.part(part)
      } catch (err) {
        reject(err)
        return
      }
      setTimeout(pump, 0)
    }
    setTimeout(pump, 0)
  })
}
