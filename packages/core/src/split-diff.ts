import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

type Struct = Y.Item | Y.GC

/** A struct of the document to send, from `offset` within it, with its encoding. */
interface Part {
  bytes: Uint8Array
}

/** The structs of one client in one chunk: consecutive, from `clock`. */
interface Run {
  clock: number
  parts: Part[]
}

/** One struct, written alone in Yjs' V1 update encoding (which keeps no state between structs). */
const encodeStruct = (struct: Struct, offset: number): Uint8Array => {
  const encoder = new Y.UpdateEncoderV1()
  struct.write(encoder, offset)
  return encoder.toUint8Array()
}

/** The ids a struct needs its receiver to have already (origins, and the parent item when written by id). */
const dependencies = (struct: Struct, offset: number): Y.ID[] => {
  if (!(struct instanceof Y.Item)) return []
  const deps: Y.ID[] = []
  // Written with an offset, the origin is the same client's previous clock: sent before it.
  if (offset === 0 && struct.origin !== null) deps.push(struct.origin)
  if (struct.rightOrigin !== null) deps.push(struct.rightOrigin)
  if ((offset > 0 || struct.origin === null) && struct.rightOrigin === null) {
    const parentItem = (struct.parent as Y.AbstractType<unknown> | null)?._item
    if (parentItem) deps.push(parentItem.id)
  }
  return deps
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

const encodeChunk = (runs: Map<number, Run>): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, runs.size)
  for (const [client, run] of runs) {
    encoding.writeVarUint(encoder, run.parts.length)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, run.clock)
    for (const part of run.parts) encoding.writeUint8Array(encoder, part.bytes)
  }
  // No deletions in a struct chunk: they follow in the last message.
  encoding.writeVarUint(encoder, 0)
  return encoding.toUint8Array(encoder)
}

/**
 * What a peer with state vector `sv` lacks from `doc`, as updates of about `maxBytes`
 * each (a single struct larger than that goes alone), so that a large diff (an offline
 * queue, a big document) never needs one frame beyond the receiver's `maxMessageBytes`.
 * Structs go in an order where each one's origins and parent precede it, so every chunk
 * applies on arrival (nothing waits as pending structs on the receiver); the deletions
 * come last, in a separate update (see syncStep2Parts). Returns no chunk when
 * nothing is missing.
 */
export const splitDiff = (doc: Y.Doc, sv: Uint8Array, maxBytes: number): Uint8Array[] => {
  const known = Y.decodeStateVector(sv)
  const clients = doc.store.clients as Map<number, Struct[]>
  const cursors: Array<{ client: number; structs: Struct[]; index: number; clock: number }> = []
  let total = 0
  for (const [client, structs] of clients) {
    const last = structs[structs.length - 1]
    const clock = Math.max(known.get(client) ?? 0, structs[0]?.id.clock ?? 0)
    if (last === undefined || clock >= last.id.clock + last.length) continue
    cursors.push({ client, structs, index: findIndex(structs, clock), clock })
    total += last.id.clock + last.length - clock
  }
  if (total === 0) return []
  const has = (id: Y.ID) => id.clock < (known.get(id.client) ?? 0)
  const chunks: Uint8Array[] = []
  let runs = new Map<number, Run>()
  let size = 0
  const flush = () => {
    if (runs.size === 0) return
    chunks.push(encodeChunk(runs))
    runs = new Map()
    size = 0
  }
  const take = (cursor: (typeof cursors)[number], struct: Struct, offset: number) => {
    const bytes = encodeStruct(struct, offset)
    if (size > 0 && size + bytes.length > maxBytes) flush()
    let run = runs.get(cursor.client)
    if (run === undefined) {
      run = { clock: struct.id.clock + offset, parts: [] }
      runs.set(cursor.client, run)
    }
    run.parts.push({ bytes })
    size += bytes.length
    cursor.clock = struct.id.clock + struct.length
    cursor.index++
    known.set(cursor.client, cursor.clock)
  }
  let open = cursors.length
  while (open > 0) {
    let progress = false
    for (const cursor of cursors) {
      for (;;) {
        const struct = cursor.structs[cursor.index]
        if (struct === undefined) break
        const offset = cursor.clock - struct.id.clock
        if (!dependencies(struct, offset).every(has)) break
        take(cursor, struct, offset)
        progress = true
      }
    }
    open = cursors.filter((c) => c.index < c.structs.length).length
    if (!progress && open > 0) {
      // Dependencies this document cannot satisfy (it holds them pending itself): send the
      // next struct anyway; the receiver keeps it pending, as it would from one update.
      const cursor = cursors.find((c) => c.index < c.structs.length) as (typeof cursors)[number]
      const struct = cursor.structs[cursor.index] as Struct
      take(cursor, struct, cursor.clock - struct.id.clock)
    }
  }
  flush()
  return chunks
}

/**
 * The updates that answer a sync step 1 with state vector `sv` from the loaded `doc`:
 * `diff` (the ordinary answer) when it fits in `maxBytes`, else the struct chunks of
 * splitDiff followed by `deletions()` (the delete set, the step 2 proper). All but the
 * last go as updates, the last as the sync step 2.
 */
export const syncStep2Parts = (
  doc: Y.Doc,
  sv: Uint8Array,
  diff: Uint8Array,
  maxBytes: number,
  deletions: () => Uint8Array,
): Uint8Array[] => (diff.length <= maxBytes ? [diff] : [...splitDiff(doc, sv, maxBytes), deletions()])
