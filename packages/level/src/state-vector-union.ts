import { forEachClockRange } from '@converge/core'
import * as Y from 'yjs'

/**
 * The state vector of a snapshot plus a log, computed without building a Y.Doc or
 * merging the updates: every piece contributes clock ranges per client, and a client's
 * clock is the end of the run of ranges that starts at 0. Structs past a gap in their own
 * client's clocks do not count. This is Yjs's own state vector of an update
 * (Y.encodeStateVectorFromUpdate of the merged log), which equals the Y.Doc's when no
 * update is missing; with missing updates it may also count structs that a Y.Doc would
 * hold pending for a dependency on another client, which a peer then still sends. An
 * update listing a client twice counts that client's last section alone, as Y.applyUpdate
 * integrates it (see forEachClockRange).
 */
export class StateVectorUnion {
  private readonly ranges = new Map<number, Array<[from: number, to: number]>>()

  /** Adds a known state vector (the snapshot's): clocks [0, n) of each client. */
  addStateVector(sv: Uint8Array): void {
    for (const [client, clock] of Y.decodeStateVector(sv)) if (clock > 0) this.add(client, 0, clock)
  }

  /** Adds the structs of an update (V1), read without decoding them. Throws if the bytes do not decode. */
  addUpdate(update: Uint8Array): void {
    forEachClockRange(update, (client, from, to) => this.add(client, from, to))
  }

  private add(client: number, from: number, to: number): void {
    const list = this.ranges.get(client)
    if (list === undefined) {
      this.ranges.set(client, [[from, to]])
      return
    }
    // Updates mostly arrive in clock order: extend the last range when they touch.
    const last = list[list.length - 1] as [number, number]
    if (from >= last[0] && from <= last[1]) last[1] = Math.max(last[1], to)
    else list.push([from, to])
  }

  /** The state vector, encoded as Y.encodeStateVector encodes a document's. */
  encode(): Uint8Array {
    const sv = new Map<number, number>()
    for (const [client, list] of this.ranges) {
      list.sort((a, b) => a[0] - b[0])
      let clock = 0
      for (const [from, to] of list) {
        if (from > clock) break
        clock = Math.max(clock, to)
      }
      if (clock > 0) sv.set(client, clock)
    }
    return Y.encodeStateVector(sv)
  }
}
