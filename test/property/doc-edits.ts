import fc from 'fast-check'
import * as Y from 'yjs'

/**
 * Random edits over the test schema: a root Y.Text 'text', Y.Map 'map' and Y.Array
 * 'array', and the types nested in them. An edit names its target by position in the
 * document's list of shared types of that kind (taken modulo the list's length when it
 * runs), so the same edit applies to whatever the document holds by then.
 */
export type Leaf = number | string | boolean | null
export type Value = Leaf | { nested: 'map' | 'array' | 'text'; seed: Leaf }

export type EditOp =
  | { kind: 'text-insert'; target: number; pos: number; text: string }
  | { kind: 'text-delete'; target: number; pos: number; len: number }
  | { kind: 'text-format'; target: number; pos: number; len: number; bold: boolean | null }
  | { kind: 'map-set'; target: number; key: string; value: Value }
  | { kind: 'map-delete'; target: number; key: string }
  | { kind: 'array-insert'; target: number; pos: number; values: Value[] }
  | { kind: 'array-delete'; target: number; pos: number; len: number }

/** Nested types are made only this deep, so documents stay small. */
const MAX_DEPTH = 3
const KEYS = ['a', 'b', 'c', 'd']

const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  fc.integer({ min: -5, max: 99 }),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
)
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: leafArb },
  { weight: 1, arbitrary: fc.record({ nested: fc.constantFrom('map', 'array', 'text'), seed: leafArb }) },
) as fc.Arbitrary<Value>

const target = fc.nat({ max: 15 })
const pos = fc.nat({ max: 40 })

export const editOpArb: fc.Arbitrary<EditOp> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('text-insert'),
      target,
      pos,
      text: fc.string({ minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('text-delete'), target, pos, len: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text-format'),
      target,
      pos,
      len: fc.integer({ min: 1, max: 4 }),
      bold: fc.constantFrom(true, null),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('map-set'), target, key: fc.constantFrom(...KEYS), value: valueArb }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('map-delete'), target, key: fc.constantFrom(...KEYS) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('array-insert'),
      target,
      pos,
      values: fc.array(valueArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('array-delete'), target, pos, len: fc.integer({ min: 1, max: 3 }) }),
  },
) as fc.Arbitrary<EditOp>

interface Typed {
  type: Y.AbstractType<unknown>
  depth: number
}

/** Every shared type of the schema reachable in `doc`, roots first, in a stable order. */
export const sharedTypes = (doc: Y.Doc): Typed[] => {
  const out: Typed[] = []
  const visit = (type: Y.AbstractType<unknown>, depth: number) => {
    out.push({ type, depth })
    if (type instanceof Y.Map) {
      for (const key of [...type.keys()].sort()) {
        const v = type.get(key)
        if (v instanceof Y.AbstractType) visit(v, depth + 1)
      }
    } else if (type instanceof Y.Array) {
      for (const v of type.toArray()) if (v instanceof Y.AbstractType) visit(v, depth + 1)
    }
  }
  visit(doc.getText('text') as Y.AbstractType<unknown>, 0)
  visit(doc.getMap('map') as Y.AbstractType<unknown>, 0)
  visit(doc.getArray('array') as Y.AbstractType<unknown>, 0)
  return out
}

const pick = <T>(doc: Y.Doc, is: (t: unknown) => t is T, index: number): { type: T; depth: number } => {
  const all = sharedTypes(doc).filter((t) => is(t.type))
  return all[index % all.length] as unknown as { type: T; depth: number }
}
const isText = (t: unknown): t is Y.Text => t instanceof Y.Text
const isMap = (t: unknown): t is Y.Map<unknown> => t instanceof Y.Map
const isArray = (t: unknown): t is Y.Array<unknown> => t instanceof Y.Array

const materialize = (value: Value, depth: number): unknown => {
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return value.seed
  if (value.nested === 'map') {
    const m = new Y.Map<unknown>()
    m.set('seed', value.seed)
    return m
  }
  if (value.nested === 'array') {
    const a = new Y.Array<unknown>()
    a.push([value.seed])
    return a
  }
  const t = new Y.Text()
  t.insert(0, String(value.seed))
  return t
}

/** Applies one edit to `doc` (as a local change of the caller's transaction). */
export const applyEdit = (doc: Y.Doc, op: EditOp): void => {
  switch (op.kind) {
    case 'text-insert': {
      const { type } = pick(doc, isText, op.target)
      type.insert(op.pos % (type.length + 1), op.text)
      return
    }
    case 'text-delete':
    case 'text-format': {
      const { type } = pick(doc, isText, op.target)
      if (type.length === 0) return
      const at = op.pos % type.length
      const len = Math.min(op.len, type.length - at)
      if (op.kind === 'text-delete') type.delete(at, len)
      else type.format(at, len, { bold: op.bold })
      return
    }
    case 'map-set': {
      const { type, depth } = pick(doc, isMap, op.target)
      type.set(op.key, materialize(op.value, depth + 1))
      return
    }
    case 'map-delete': {
      const { type } = pick(doc, isMap, op.target)
      type.delete(op.key)
      return
    }
    case 'array-insert': {
      const { type, depth } = pick(doc, isArray, op.target)
      type.insert(
        op.pos % (type.length + 1),
        op.values.map((v) => materialize(v, depth + 1)),
      )
      return
    }
    case 'array-delete': {
      const { type } = pick(doc, isArray, op.target)
      if (type.length === 0) return
      const at = op.pos % type.length
      type.delete(at, Math.min(op.len, type.length - at))
      return
    }
  }
}

const canonicalOf = (value: unknown): unknown => {
  if (value instanceof Y.Text) return { text: canonicalOf(value.toDelta()) }
  if (value instanceof Y.Map) {
    const out: Record<string, unknown> = {}
    for (const key of [...value.keys()].sort()) out[key] = canonicalOf(value.get(key))
    return { map: out }
  }
  if (value instanceof Y.Array) return { array: value.toArray().map(canonicalOf) }
  if (value instanceof Uint8Array) return { bytes: [...value] }
  if (Array.isArray(value)) return value.map(canonicalOf)
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(obj).sort()) out[key] = canonicalOf(obj[key])
    return out
  }
  return value
}

/**
 * The document's content as JSON with map keys sorted (maps keep insertion order, which
 * differs between replicas) and text as a delta (so formatting counts).
 */
export const canonicalJson = (doc: Y.Doc): string =>
  JSON.stringify({
    text: canonicalOf(doc.getText('text')),
    map: canonicalOf(doc.getMap('map')),
    array: canonicalOf(doc.getArray('array')),
  })
