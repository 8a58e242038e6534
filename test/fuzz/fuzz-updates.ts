/**
 * Payloads for fuzzing: Yjs updates (valid, and valid but referencing structs the
 * receiver cannot have), state vectors and awareness updates, all from a seeded PRNG.
 */
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import * as Y from 'yjs'

type Rng = prng.PRNG

/** A client id no real replica is likely to hold, so updates from it never collide. */
const clientId = (rng: Rng) => prng.uint32(rng, 1, 2 ** 31 - 1)

const freshDoc = (rng: Rng) => {
  const doc = new Y.Doc({ gc: prng.bool(rng) })
  doc.clientID = clientId(rng)
  return doc
}

const randomValue = (rng: Rng, depth = 0): unknown => {
  switch (prng.int32(rng, 0, depth > 2 ? 4 : 6)) {
    case 0:
      return prng.utf16String(rng, 12)
    case 1:
      return prng.int53(rng, -(2 ** 53) + 1, 2 ** 53 - 1)
    case 2:
      return prng.real53(rng)
    case 3:
      return prng.oneOf(rng, [null, true, false, ''])
    case 4:
      return prng.uint8Array(rng, prng.int32(rng, 0, 16))
    case 5:
      return Array.from({ length: prng.int32(rng, 0, 3) }, () => randomValue(rng, depth + 1))
    default:
      return Object.fromEntries(
        Array.from({ length: prng.int32(rng, 0, 3) }, () => [prng.word(rng, 1, 6), randomValue(rng, depth + 1)]),
      )
  }
}

/** A few random edits to the test schema's root types (text, map, array), some nested. */
const edit = (rng: Rng, doc: Y.Doc, ops: number) => {
  for (let i = 0; i < ops; i++) {
    doc.transact(() => {
      const text = doc.getText('text')
      const map = doc.getMap('map')
      const array = doc.getArray('array')
      switch (prng.int32(rng, 0, 6)) {
        case 0:
          text.insert(prng.int32(rng, 0, text.length), prng.utf16String(rng, 24))
          break
        case 1:
          if (text.length > 0) text.delete(prng.int32(rng, 0, text.length - 1), 1)
          else text.insert(0, prng.word(rng, 1, 8), { bold: prng.bool(rng) })
          break
        case 2:
          map.set(prng.word(rng, 1, 4), randomValue(rng))
          break
        case 3:
          array.insert(prng.int32(rng, 0, array.length), [randomValue(rng)])
          break
        case 4:
          if (array.length > 0) array.delete(prng.int32(rng, 0, array.length - 1), 1)
          break
        case 5: {
          const nested = new Y.Map()
          nested.set('k', randomValue(rng))
          map.set(prng.word(rng, 1, 4), nested)
          break
        }
        default: {
          const nested = new Y.Array()
          nested.push([randomValue(rng)])
          array.push([nested])
        }
      }
    })
  }
}

/** An update any receiver can integrate: a fresh client editing root types only. */
export const validUpdate = (rng: Rng): Uint8Array => {
  const doc = freshDoc(rng)
  edit(rng, doc, prng.int32(rng, 1, 6))
  return Y.encodeStateAsUpdate(doc)
}

/** An update whose first clock is past 0: the receiver lacks the client's earlier structs. */
export const gappedUpdate = (rng: Rng, padding = 0): Uint8Array => {
  const doc = freshDoc(rng)
  edit(rng, doc, prng.int32(rng, 1, 3))
  const sv = Y.encodeStateVector(doc)
  doc.getText('text').insert(0, `${prng.word(rng, 1, 8)}${'p'.repeat(padding)}`)
  return Y.encodeStateAsUpdate(doc, sv)
}

/** An update from a fresh client whose inserts sit next to (origin) structs of a client the receiver lacks. */
export const missingOriginUpdate = (rng: Rng, padding = 0): Uint8Array => {
  const base = freshDoc(rng)
  base.getArray('array').push([prng.word(rng, 1, 8)])
  const doc = freshDoc(rng)
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const sv = Y.encodeStateVector(doc)
  doc.getArray('array').push([`${prng.word(rng, 1, 8)}${'o'.repeat(padding)}`])
  return Y.encodeStateAsUpdate(doc, sv)
}

/** An update that inserts into a nested type (its parent) made by a client the receiver lacks. */
export const missingParentUpdate = (rng: Rng): Uint8Array => {
  const base = freshDoc(rng)
  const nested = new Y.Array()
  base.getMap('map').set(prng.word(rng, 1, 4), nested)
  const doc = freshDoc(rng)
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const sv = Y.encodeStateVector(doc)
  for (const value of doc.getMap('map').values()) {
    if (value instanceof Y.Array) value.push([prng.word(rng, 1, 8)])
  }
  return Y.encodeStateAsUpdate(doc, sv)
}

/** An update made only of deletions of structs (of a client) the receiver lacks. */
export const missingDeleteUpdate = (rng: Rng, deletions = 4): Uint8Array => {
  const base = freshDoc(rng)
  base.getText('text').insert(0, 'd'.repeat(deletions * 2))
  const doc = freshDoc(rng)
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const sv = Y.encodeStateVector(doc)
  // Every other character, so each deletion is its own range in the delete set.
  for (let i = 0; i < deletions; i++) doc.getText('text').delete(i, 1)
  return Y.encodeStateAsUpdate(doc, sv)
}

/** A valid update in the V2 encoding, which the V1 wire format does not carry. */
export const v2Update = (rng: Rng): Uint8Array => {
  const doc = freshDoc(rng)
  edit(rng, doc, prng.int32(rng, 1, 4))
  return Y.encodeStateAsUpdateV2(doc)
}

/** Any of the update payloads above, or random bytes. */
export const anyUpdate = (rng: Rng): Uint8Array => {
  const r = prng.real53(rng)
  if (r < 0.5) return validUpdate(rng)
  if (r < 0.62) return gappedUpdate(rng)
  if (r < 0.72) return missingOriginUpdate(rng)
  if (r < 0.78) return missingParentUpdate(rng)
  if (r < 0.86) return missingDeleteUpdate(rng, prng.int32(rng, 1, 8))
  if (r < 0.9) return v2Update(rng)
  if (r < 0.96) return craftedUpdate(rng)
  return prng.uint8Array(rng, prng.int32(rng, 0, 64))
}

/** A state vector: empty, of a real document, or with random (possibly huge) clocks. */
export const anyStateVector = (rng: Rng): Uint8Array => {
  const r = prng.real53(rng)
  if (r < 0.3) return Y.encodeStateVector(new Y.Doc())
  if (r < 0.6) {
    const doc = freshDoc(rng)
    edit(rng, doc, 2)
    return Y.encodeStateVector(doc)
  }
  const encoder = encoding.createEncoder()
  const n = prng.int32(rng, 0, 8)
  encoding.writeVarUint(encoder, n)
  for (let i = 0; i < n; i++) {
    encoding.writeVarUint(encoder, clientId(rng))
    encoding.writeVarUint(encoder, prng.bool(rng) ? prng.int32(rng, 0, 100) : prng.int53(rng, 0, 2 ** 53 - 1))
  }
  return encoding.toUint8Array(encoder)
}

/** JSON nested `depth` levels deep: a stack-depth probe for whoever parses or re-encodes it. */
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

/** An awareness update (y-protocols layout): states, removals (null), huge clocks, deep JSON. */
export const anyAwareness = (rng: Rng): Uint8Array => {
  const encoder = encoding.createEncoder()
  const n = prng.int32(rng, 0, 4)
  encoding.writeVarUint(encoder, n)
  for (let i = 0; i < n; i++) {
    encoding.writeVarUint(encoder, clientId(rng))
    encoding.writeVarUint(encoder, prng.bool(rng) ? prng.int32(rng, 0, 10) : prng.int53(rng, 0, 2 ** 53 - 1))
    const r = prng.real53(rng)
    let json: string
    if (r < 0.15) json = 'null'
    else if (r < 0.2) json = deepJson(prng.int32(rng, 100, 20_000))
    else if (r < 0.25) json = prng.utf16String(rng, 10)
    else json = JSON.stringify({ user: { name: prng.word(rng), color: `#${prng.int32(rng, 0, 0xffffff)}` } })
    encoding.writeVarString(encoder, json)
  }
  return encoding.toUint8Array(encoder)
}

/**
 * A V1 update of `ranges` one-element deletions of a client the receiver lacks, written
 * directly (no structs, one delete-set entry): a cheap way to make a large pending delete set.
 */
export const missingDeleteRanges = (rng: Rng, ranges: number): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, clientId(rng))
  encoding.writeVarUint(encoder, ranges)
  for (let i = 0; i < ranges; i++) {
    encoding.writeVarUint(encoder, 2 * i)
    encoding.writeVarUint(encoder, 1)
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Writes one item's content of a random kind, V1 layout (see Yjs ItemContent.write).
 * Returns its content ref and its length in clock ticks.
 */
const writeContent = (rng: Rng, e: encoding.Encoder): [number, number] => {
  const ref = prng.oneOf(rng, [1, 2, 3, 4, 5, 6, 7, 8, 9])
  switch (ref) {
    case 1: {
      // deleted
      const len = prng.int32(rng, 1, 5)
      encoding.writeVarUint(e, len)
      return [ref, len]
    }
    case 2: // JSON
      encoding.writeVarUint(e, 1)
      encoding.writeVarString(e, prng.bool(rng) ? 'undefined' : JSON.stringify(randomValue(rng)))
      break
    case 3: // binary
      encoding.writeVarUint8Array(e, prng.uint8Array(rng, prng.int32(rng, 0, 8)))
      break
    case 4: {
      // string
      const word = prng.word(rng, 1, 6)
      encoding.writeVarString(e, word)
      return [ref, word.length]
    }
    case 5: // embed
      encoding.writeVarString(e, JSON.stringify({ embed: prng.word(rng) }))
      break
    case 6: // format
      encoding.writeVarString(e, prng.oneOf(rng, ['bold', 'italic']))
      encoding.writeVarString(e, JSON.stringify(prng.bool(rng) ? true : null))
      break
    case 7: {
      // type: array, map, text, xml element (named), fragment, hook (named), xml text
      const typeRef = prng.int32(rng, 0, 6)
      encoding.writeVarUint(e, typeRef)
      if (typeRef === 3 || typeRef === 5) encoding.writeVarString(e, prng.word(rng, 1, 6))
      break
    }
    case 8: // any
      encoding.writeVarUint(e, 1)
      encoding.writeAny(e, prng.word(rng) as never)
      break
    default: // subdocument
      encoding.writeVarString(e, `guid-${prng.word(rng, 4, 8)}`)
      encoding.writeAny(e, {})
  }
  return [ref, 1]
}

/**
 * A base of real structs (text, map, array, nested types, deletions) and, in the same
 * update, items of a new client written by hand that point into it at random: origins,
 * right origins and parents that exist but need not fit together (an origin in another
 * type than the parent, a parent that is not a type, an item under a map key and in a
 * list). Every reference is to a struct the update holds, so nothing is pending: Yjs
 * integrates it, which is what this probes.
 */
export const craftedUpdate = (rng: Rng): Uint8Array => {
  const base = freshDoc(rng)
  edit(rng, base, prng.int32(rng, 2, 8))
  const baseClient = base.clientID
  const baseLength = Y.getState(base.store, baseClient)
  const client = clientId(rng)
  const count = prng.int32(rng, 1, 6)
  let clock = 0
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, count)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, 0)
  const someId = (): [number, number] =>
    clock > 0 && prng.bool(rng)
      ? [client, prng.int32(rng, 0, clock - 1)]
      : [baseClient, prng.int32(rng, 0, baseLength - 1)]
  for (let i = 0; i < count; i++) {
    const origin = prng.bool(rng)
    const right = prng.real53(rng) < 0.3
    const sub = prng.real53(rng) < 0.3
    const body = encoding.createEncoder()
    if (origin) for (const n of someId()) encoding.writeVarUint(body, n)
    if (right) for (const n of someId()) encoding.writeVarUint(body, n)
    if (!origin && !right) {
      const rootKey = prng.bool(rng)
      encoding.writeVarUint(body, rootKey ? 1 : 0)
      if (rootKey) encoding.writeVarString(body, prng.oneOf(rng, ['text', 'map', 'array', 'other']))
      else for (const n of someId()) encoding.writeVarUint(body, n)
      if (sub) encoding.writeVarString(body, prng.word(rng, 1, 4))
    }
    const [ref, length] = writeContent(rng, body)
    encoding.writeUint8(e, ref | (origin ? 0x80 : 0) | (right ? 0x40 : 0) | (sub ? 0x20 : 0))
    encoding.writeUint8Array(e, encoding.toUint8Array(body))
    clock += length
  }
  encoding.writeVarUint(e, 0)
  const crafted = encoding.toUint8Array(e)
  try {
    return Y.mergeUpdates([Y.encodeStateAsUpdate(base), crafted])
  } catch {
    return crafted
  }
}
