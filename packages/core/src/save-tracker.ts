/**
 * What is saved where. A client counts its document's local changes (app edits, and
 * updates from peers that are not upstream relays) and how many of them an upstream relay
 * confirmed durable; each session numbers the update-carrying messages it sends and
 * receives, to match `saved` acknowledgements to them.
 */

/** One document's save state on a client. */
export class SaveTracker {
  private local = 0
  private savedThrough = 0
  /** The durable state vector the upstream relay reported with its latest `saved`. */
  private stateVector: Uint8Array | undefined
  private readonly changed: () => void

  constructor(changed: () => void) {
    this.changed = changed
  }

  /** Local changes counted since load: what a message sent now carries. */
  get localChanges(): number {
    return this.local
  }

  /** Local changes no upstream relay has confirmed durable. */
  get unsaved(): number {
    return Math.max(0, this.local - this.savedThrough)
  }

  /** The relay's durable state vector at its latest confirmation, if any. */
  get savedStateVector(): Uint8Array | undefined {
    return this.stateVector
  }

  /** A stored state loaded: no relay has confirmed it in this session yet. */
  loadedUnconfirmed(): void {
    this.local = Math.max(this.local, 1)
  }

  localChange(): void {
    this.local++
    this.changed()
  }

  /** An upstream relay confirmed every change up to `localChanges` durable. */
  confirmed(localChanges: number, stateVector: Uint8Array): void {
    if (localChanges <= this.savedThrough) return
    this.savedThrough = localChanges
    this.stateVector = stateVector
    this.changed()
  }
}

/** One session's numbering of update-carrying messages, both ways, for `saved`. */
export class SessionAcks {
  private sentSeq = 0
  private ackedSeq = 0
  /**
   * Upstream sessions: [seq, local change count it covers], oldest first, from `head` on.
   * A queue with a moving head: a burst leaves tens of thousands unacknowledged, and
   * Array.shift of each would copy the rest every time (quadratic in the burst).
   */
  private inFlight: Array<[number, number]> = []
  private head = 0
  private recvSeq = 0
  /** Every received message up to this number is durable and applied. */
  private durableSeq = 0
  /** Messages durable ahead of an earlier one still being written (made when one is). */
  private durableAhead: Set<number> | undefined

  /** A message carrying `localChanges` went out; an upstream session waits for its ack. */
  sent(localChanges: number, upstream: boolean): void {
    const seq = ++this.sentSeq
    if (upstream) this.inFlight.push([seq, localChanges])
  }

  /** The remote's `saved` for `seq`: the local change count it covers, or undefined if none is new. */
  acked(seq: number): number | undefined {
    if (seq <= this.ackedSeq || seq > this.sentSeq) return undefined
    this.ackedSeq = seq
    let covered: number | undefined
    while (this.head < this.inFlight.length && (this.inFlight[this.head] as [number, number])[0] <= seq) {
      covered = (this.inFlight[this.head++] as [number, number])[1]
    }
    // Drop the acknowledged prefix once it is most of the array (amortized constant per entry).
    if (this.head >= 1024 && this.head * 2 >= this.inFlight.length) {
      this.inFlight = this.inFlight.slice(this.head)
      this.head = 0
    }
    return covered
  }

  /** A message arrived: its number. */
  received(): number {
    return ++this.recvSeq
  }

  /** Message `seq` is durable; true when that moved the durable prefix (an ack is due). */
  durable(seq: number): boolean {
    if (this.durableAhead === undefined && seq === this.durableSeq + 1) {
      // In order, as nearly always: no set.
      this.durableSeq = seq
      return true
    }
    const ahead = this.durableAhead ?? new Set<number>()
    ahead.add(seq)
    const before = this.durableSeq
    while (ahead.delete(this.durableSeq + 1)) this.durableSeq++
    this.durableAhead = ahead.size === 0 ? undefined : ahead
    return this.durableSeq !== before
  }

  /** Every received message up to this number is durable: what `saved` acknowledges. */
  get durableThrough(): number {
    return this.durableSeq
  }
}
