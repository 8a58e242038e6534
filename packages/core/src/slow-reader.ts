import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { CloseCode } from './close-codes.js'
import type { Message } from './messages.js'

/** What the gate needs from its connection. */
export interface SlowReaderHost {
  /** Bytes queued on the socket, not yet handed to the network; undefined where unknown. */
  bufferedAmount(): number | undefined
  /** The state vector of `doc` as loaded now (the held update applied), or undefined when not loaded. */
  stateOf(doc: string): ReadonlyMap<number, number> | undefined
  /** Sends what `doc` gained since `stateVector` (one update). */
  flush(doc: string, stateVector: Uint8Array): void
  /** Closes the connection: its queue passed the ceiling. */
  close(code: number, reason: string): void
}

/** How often a congested connection's queue is checked, in ms. */
const DRAIN_POLL_MS = 20

/**
 * The slow-reader policy of a relay connection. While more than `slowReaderBytes` wait on
 * its socket, updates for it are not queued: the gate keeps, per document, the state
 * vector the reader had reached (the document's state before the first held update).
 * Once the queue drained to half, each such document goes out as one update, the diff
 * since that state vector, which is never larger than the updates it replaces and is
 * often much smaller (deleted content is gone from it). Memory per slow reader: its queue
 * (up to the threshold and what other messages add) and one state vector per document.
 * A queue past `maxBufferedBytes` (a reader that also floods requests whose answers it
 * never reads) closes the connection with 1013, try again later.
 */
export class SlowReaderGate {
  /** Per document held back, the state vector its reader had reached (made on the first). */
  private held: Map<string, Map<number, number>> | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private closed = false

  constructor(
    private readonly host: SlowReaderHost,
    private readonly slowReaderBytes: number,
    private readonly maxBufferedBytes: number,
  ) {}

  /** Documents whose updates are held for this reader now. */
  get heldDocs(): number {
    return this.held?.size ?? 0
  }

  /** True when `m` is held back instead of sent. */
  intercept(m: Message): boolean {
    if (this.closed || m.type !== 'update') return false
    let sv = this.held?.get(m.doc)
    if (sv === undefined) {
      const queued = this.host.bufferedAmount()
      if (queued === undefined || queued <= this.slowReaderBytes) return false
      const now = this.host.stateOf(m.doc)
      if (now === undefined) return false
      sv = new Map(now)
      this.held ??= new Map()
      this.held.set(m.doc, sv)
      this.startPolling()
    }
    // The reader lacks this update: step its state vector back to where the update starts.
    for (const [client, clock] of Y.parseUpdateMeta(m.update).from) {
      if ((sv.get(client) ?? 0) > clock) sv.set(client, clock)
    }
    return true
  }

  /** After a send: a queue past the ceiling closes the connection. */
  check(): void {
    const queued = this.host.bufferedAmount()
    if (!this.closed && queued !== undefined && queued > this.maxBufferedBytes) {
      this.dispose()
      this.host.close(CloseCode.tryAgainLater, `more than ${this.maxBufferedBytes} bytes queued for a slow reader`)
    }
  }

  dispose(): void {
    this.closed = true
    this.held = undefined
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private startPolling(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.poll(), DRAIN_POLL_MS)
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private poll(): void {
    this.check()
    if (this.closed) return
    if ((this.host.bufferedAmount() ?? 0) > this.slowReaderBytes / 2) return
    const held = [...(this.held ?? [])]
    this.held = undefined
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    for (const [doc, sv] of held) this.host.flush(doc, encodeStateVector(sv))
  }
}

/** A state vector in Yjs' V1 encoding (what Y.encodeStateVector writes). */
const encodeStateVector = (sv: Map<number, number>): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, sv.size)
  for (const [client, clock] of sv) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
  }
  return encoding.toUint8Array(encoder)
}
