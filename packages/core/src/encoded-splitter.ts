/**
 * DiffSplitter's parts (split-diff.ts), cut from an encoded state's bytes instead of from
 * decoded structs: a V1 struct's bytes do not depend on the structs around it, so a run of
 * one client's consecutive structs is a slice of the state, copied as it is behind a new
 * run header. The order is DiffSplitter's (each struct after the ids it needs, so every
 * part applies on arrival), found from the scan (update-scan.ts) without decoding a struct.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import type { PartCutter } from './split-diff.js'
import {
  CLOCK,
  END,
  LENGTH,
  NEED_CLIENT,
  NEED_CLOCK,
  NONE,
  ORIGIN_CLIENT,
  ORIGIN_CLOCK,
  type ScannedUpdate,
  START,
  STRIDE,
} from './update-scan.js'

/** Where the splitter stands in one client's section: its next row, and the row past its last. */
interface Cursor {
  client: number
  row: number
  end: number
}

/** The rows of one client taken into the part being cut. */
interface Taken {
  client: number
  first: number
  count: number
}

export class EncodedSplitter implements PartCutter {
  private readonly cursors: Cursor[] = []

  private constructor(
    private readonly scan: ScannedUpdate & { readonly table: Uint32Array },
    private readonly known: Map<number, number>,
    private readonly maxBytes: number,
  ) {}

  /**
   * A splitter of what a peer with state vector `sv` lacks from the scanned state, in parts
   * of about `maxBytes`; undefined when the bytes cannot be cut as they are: the peer holds
   * part of a struct (it needs the struct's tail, re-encoded), a client has two sections,
   * or the scan has no table.
   */
  static of(scan: ScannedUpdate, sv: Uint8Array, maxBytes: number): EncodedSplitter | undefined {
    const { table } = scan
    if (table === undefined) return undefined
    const splitter = new EncodedSplitter({ ...scan, table }, Y.decodeStateVector(sv), maxBytes)
    const seen = new Set<number>()
    for (const { client, first, count } of scan.runs) {
      if (seen.has(client)) return undefined
      seen.add(client)
      const known = splitter.known.get(client) ?? 0
      let row = first
      const end = first + count
      while (row < end && (table[CLOCK + row * STRIDE] as number) + (table[LENGTH + row * STRIDE] as number) <= known)
        row++
      if (row === end) continue
      if ((table[CLOCK + row * STRIDE] as number) < known) return undefined
      splitter.cursors.push({ client, row, end })
    }
    return splitter
  }

  /** The peer's state vector with every part so far added: what the final diff starts from. */
  covered(): Uint8Array {
    return Y.encodeStateVector(this.known)
  }

  private get done(): boolean {
    return this.cursors.every((c) => c.row >= c.end)
  }

  /** Whether the peer at `known` has every id the struct at `row` needs first. */
  private ready(row: number): boolean {
    const t = this.scan.table
    const at = row * STRIDE
    return (
      this.has(t[ORIGIN_CLIENT + at] as number, t[ORIGIN_CLOCK + at] as number) &&
      this.has(t[NEED_CLIENT + at] as number, t[NEED_CLOCK + at] as number)
    )
  }

  private has(client: number, clock: number): boolean {
    return client === NONE || clock < (this.known.get(client) ?? 0)
  }

  /** The next part, or undefined when every struct was sent. */
  next(): Uint8Array | undefined {
    const t = this.scan.table
    const taken = new Map<Cursor, Taken>()
    let size = 0
    /** Adds the struct at the cursor to the part; false when the part is full without it. */
    const take = (cursor: Cursor): boolean => {
      const at = cursor.row * STRIDE
      const bytes = (t[END + at] as number) - (t[START + at] as number)
      if (size > 0 && size + bytes > this.maxBytes) return false
      const run = taken.get(cursor)
      if (run === undefined) taken.set(cursor, { client: cursor.client, first: cursor.row, count: 1 })
      else run.count++
      size += bytes
      cursor.row++
      this.known.set(cursor.client, (t[CLOCK + at] as number) + (t[LENGTH + at] as number))
      return true
    }
    for (;;) {
      let progress = false
      for (const cursor of this.cursors) {
        while (cursor.row < cursor.end && this.ready(cursor.row)) {
          if (!take(cursor)) return this.encode(taken, size)
          progress = true
        }
      }
      if (this.done) return taken.size === 0 ? undefined : this.encode(taken, size)
      if (!progress) {
        // Ids this state cannot satisfy (a Y.Doc would hold them pending): send the next
        // struct anyway; the receiver keeps it pending, as it would from one update.
        const cursor = this.cursors.find((c) => c.row < c.end) as Cursor
        if (!take(cursor)) return this.encode(taken, size)
      }
    }
  }

  /** One update of the taken runs: a header per run, its structs' bytes as they are, no deletions. */
  private encode(taken: Map<Cursor, Taken>, size: number): Uint8Array {
    const t = this.scan.table
    const encoder = encoding.createEncoder()
    // Room for the structs and every varint (at most 8 bytes each): the bytes are copied once, into it.
    encoder.cbuf = new Uint8Array(size + 16 + taken.size * 24)
    encoding.writeVarUint(encoder, taken.size)
    for (const { client, first, count } of taken.values()) {
      const last = (first + count - 1) * STRIDE
      encoding.writeVarUint(encoder, count)
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, t[CLOCK + first * STRIDE] as number)
      encoding.writeUint8Array(encoder, this.scan.bytes.subarray(t[START + first * STRIDE], t[END + last]))
    }
    encoding.writeVarUint(encoder, 0)
    return encoder.bufs.length === 0 ? encoder.cbuf.subarray(0, encoder.cpos) : encoding.toUint8Array(encoder)
  }
}
