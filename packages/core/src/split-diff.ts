import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

type Struct = Y.Item | Y.GC | Y.Skip

/** Structs by client in clock order: a Y.Doc's store, or an encoded state's decoded structs (EncodedDoc.structs). */
export interface StructSource {
  readonly clients: Map<number, Struct[]>
}

/** The structs of one client in one chunk: consecutive, from `clock`, written into `encoder`. */
interface Run {
  clock: number
  count: number
  /** Yjs' V1 update encoding keeps no state between structs: they are written as they come. */
  encoder: Y.UpdateEncoderV1
}

/** Whether a peer at `known` has the id. */
const has = (known: Map<number, number>, id: Y.ID): boolean => id.clock < (known.get(id.client) ?? 0)

/**
 * Whether the receiver at `known` has every id the struct needs first: its origins, and
 * the parent item when the struct is written with its parent's id.
 */
const dependenciesKnown = (struct: Struct, offset: number, known: Map<number, number>): boolean => {
  if (!(struct instanceof Y.Item)) return true
  // Written with an offset, the origin is the same client's previous clock: sent before it.
  if (offset === 0 && struct.origin !== null && !has(known, struct.origin)) return false
  if (struct.rightOrigin !== null) return has(known, struct.rightOrigin)
  if (offset > 0 || struct.origin === null) {
    // A decoded struct (not integrated) names its parent by id or root name.
    if (struct.parent instanceof Y.ID) return has(known, struct.parent)
    const parentItem = (struct.parent as Y.AbstractType<unknown> | null)?._item
    if (parentItem && !has(known, parentItem.id)) return false
  }
  return true
}

/**
 * Takes back what was written to `encoder` since it had `bufs` filled buffers and stood at
 * `cpos` in `cbuf`. A lib0 encoder only ever appends: it writes at `cpos` in `cbuf`, and
 * when that is full moves `cbuf` (or a view of its written part) to `bufs` and starts a new
 * one. So the bytes before the mark are untouched, and restoring the fields forgets the rest.
 */
const unwrite = (encoder: encoding.Encoder, bufs: number, cbuf: encoding.Encoder['cbuf'], cpos: number): void => {
  encoder.bufs.length = bufs
  encoder.cbuf = cbuf
  encoder.cpos = cpos
}

/** Appends what `from` holds to `to` (lib0 encoders: the filled buffers, then the current one). */
const appendEncoder = (to: encoding.Encoder, from: encoding.Encoder): void => {
  for (const buf of from.bufs) encoding.writeUint8Array(to, buf)
  encoding.writeUint8Array(to, from.cbuf.subarray(0, from.cpos))
}

/** Index of the struct holding `clock` in a client's (sorted, contiguous) structs. */
const findIndex = (structs: Struct[], clock: number): number => {
  let lo = 0
  let hi = structs.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const s = structs[mid] as Struct
    if (clock < s.id.clock) hi = mid - 1
    else if (clock >= s.id.clock + s.length) lo = mid + 1
    else return mid
  }
  return lo
}

const encodeChunk = (runs: Map<number, Run>, size: number): Uint8Array => {
  const encoder = encoding.createEncoder()
  // One buffer for the whole chunk: the structs plus a few varints per run.
  encoder.cbuf = new Uint8Array(size + 16 + runs.size * 24)
  encoding.writeVarUint(encoder, runs.size)
  for (const [client, run] of runs) {
    encoding.writeVarUint(encoder, run.count)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, run.clock)
    appendEncoder(encoder, run.encoder.restEncoder)
  }
  // No deletions in a struct chunk: they follow in the last message.
  encoding.writeVarUint(encoder, 0)
  return encoding.toUint8Array(encoder)
}

/** Cuts an answer's parts one at a time (DiffSplitter; EncodedSplitter, encoded-splitter.ts, from an encoded state). */
export interface PartCutter {
  /** The next part, or undefined when every struct was sent. */
  next(): Uint8Array | undefined
  /** The peer's state vector with every part so far added: what the final diff starts from. */
  covered(): Uint8Array
}

/** Where a splitter stands in one client's structs: a clock, not an index, so the document may change between parts. */
interface Cursor {
  client: number
  /** The next clock to send. */
  clock: number
  /** The client's clock when the splitter started: later structs are left to the final diff. */
  end: number
}

/**
 * Cuts what a peer with state vector `sv` lacks from `store` into updates of about
 * `maxBytes` each (a single struct larger than that goes alone), one part per `next()`,
 * so that a large diff (an offline queue, a big document) never needs one frame beyond
 * the receiver's `maxMessageBytes`, and its sender can yield between parts. Structs go
 * in an order where each one's origins and parent precede it, so every part applies on
 * arrival (nothing waits as pending structs on the receiver). The parts cover the
 * structs the document had when the splitter was made; the document may change between
 * calls (positions are clocks, found again each time). What they did not cover, the
 * deletions and any later structs, is the diff since `covered()` (see SyncAnswer, sync-answer.ts).
 */
export class DiffSplitter implements PartCutter {
  private readonly known: Map<number, number>
  private readonly cursors: Cursor[] = []

  constructor(
    private readonly store: StructSource,
    sv: Uint8Array,
    private readonly maxBytes: number,
  ) {
    this.known = Y.decodeStateVector(sv)
    for (const [client, structs] of store.clients) {
      const last = structs[structs.length - 1]
      if (last === undefined) continue
      const clock = Math.max(this.known.get(client) ?? 0, structs[0]?.id.clock ?? 0)
      const end = last.id.clock + last.length
      if (clock < end) this.cursors.push({ client, clock, end })
    }
  }

  /** Every struct the document had at the start was cut into a part. */
  get done(): boolean {
    return this.cursors.every((c) => c.clock >= c.end)
  }

  /** The peer's state vector with every part so far added: what the final diff starts from. */
  covered(): Uint8Array {
    return Y.encodeStateVector(this.known)
  }

  /** The next part, or undefined when every struct was sent. */
  next(): Uint8Array | undefined {
    const runs = new Map<number, Run>()
    let size = 0
    /**
     * Adds the struct at the cursor to the part; false when the part is full without it.
     * The struct is written straight into its run (not into an encoder of its own: those
     * were most of the work), and taken back when it does not fit.
     */
    const take = (cursor: Cursor, struct: Struct): boolean => {
      let run = runs.get(cursor.client)
      if (run === undefined) {
        run = { clock: cursor.clock, count: 0, encoder: new Y.UpdateEncoderV1() }
        runs.set(cursor.client, run)
      }
      const out = run.encoder.restEncoder
      const bufs = out.bufs.length
      const cbuf = out.cbuf
      const cpos = out.cpos
      const before = encoding.length(out)
      struct.write(run.encoder, cursor.clock - struct.id.clock)
      const length = encoding.length(out) - before
      if (size > 0 && size + length > this.maxBytes) {
        unwrite(out, bufs, cbuf, cpos)
        if (run.count === 0) runs.delete(cursor.client)
        return false
      }
      run.count++
      size += length
      cursor.clock = struct.id.clock + struct.length
      this.known.set(cursor.client, cursor.clock)
      return true
    }
    const structAt = (cursor: Cursor): Struct | undefined => {
      if (cursor.clock >= cursor.end) return undefined
      const structs = this.store.clients.get(cursor.client)
      return structs?.[findIndex(structs, cursor.clock)]
    }
    for (;;) {
      let progress = false
      for (const cursor of this.cursors) {
        const structs = this.store.clients.get(cursor.client)
        if (structs === undefined) continue
        let index = findIndex(structs, cursor.clock)
        for (;;) {
          const struct = cursor.clock < cursor.end ? structs[index] : undefined
          if (struct === undefined) break
          if (!dependenciesKnown(struct, cursor.clock - struct.id.clock, this.known)) break
          if (!take(cursor, struct)) return encodeChunk(runs, size)
          index++
          progress = true
        }
      }
      if (this.done) return runs.size === 0 ? undefined : encodeChunk(runs, size)
      if (!progress) {
        // Dependencies this document cannot satisfy (it holds them pending itself): send the
        // next struct anyway; the receiver keeps it pending, as it would from one update.
        const cursor = this.cursors.find((c) => c.clock < c.end) as Cursor
        const struct = structAt(cursor)
        if (struct === undefined) cursor.clock = cursor.end
        else if (!take(cursor, struct)) return encodeChunk(runs, size)
      }
    }
  }
}

/**
 * What a peer with state vector `sv` lacks from `doc`, as updates of about `maxBytes`
 * each, all at once (see DiffSplitter); the deletions come last, in a separate update.
 * Returns no chunk when nothing is missing.
 */
export const splitDiff = (doc: Y.Doc, sv: Uint8Array, maxBytes: number): Uint8Array[] => {
  const splitter = new DiffSplitter(doc.store as StructSource, sv, maxBytes)
  const chunks: Uint8Array[] = []
  for (let part = splitter.next(); part !== undefined; part = splitter.next()) chunks.push(part)
  return chunks
}

/**
 * Whether what a peer with state vector `sv` lacks from `doc` surely encodes to more than
 * `maxBytes`, known without encoding it: a lower bound of its size (every struct writes at
 * least one byte, a string at least its UTF-16 length), counted only until it passes
 * `maxBytes`, so the check costs a bounded walk. False says nothing: the diff may be larger.
 */
export const surelyLargerThan = (doc: Y.Doc, sv: Uint8Array, maxBytes: number): boolean => {
  const known = Y.decodeStateVector(sv)
  let bytes = 0
  for (const [client, structs] of doc.store.clients as Map<number, Struct[]>) {
    const clock = known.get(client) ?? 0
    let i = findIndex(structs, clock)
    // The first missing struct may be partly known: one byte for it.
    if (i < structs.length) bytes++
    for (i++; i < structs.length; i++) {
      const struct = structs[i] as Struct
      bytes += struct instanceof Y.Item && struct.content instanceof Y.ContentString ? 1 + struct.content.str.length : 1
      if (bytes > maxBytes) return true
    }
    if (bytes > maxBytes) return true
  }
  return false
}
