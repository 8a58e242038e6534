/**
 * An adversarial check of update-scan.ts and encoded-splitter.ts against Yjs itself: random
 * documents with every content kind, several clients (ids past 31, 32 and up to 53 bits),
 * nested types, XML, subdocuments, deletions, formatting, gaps (Skip), GC; real traces;
 * and mutated bytes.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { seedFor } from '../../../test/helpers/seed.js'
import { EncodedSplitter } from './encoded-splitter.js'
import { DiffSplitter } from './split-diff.js'
import {
  CLOCK,
  deleteSetOf,
  END,
  forEachClockRange,
  GC_REF,
  LENGTH,
  NEED_CLIENT,
  NEED_CLOCK,
  NONE,
  ORIGIN_CLIENT,
  ORIGIN_CLOCK,
  REF,
  SKIP_REF,
  START,
  STRIDE,
  scanUpdate,
} from './update-scan.js'

type Rand = () => number
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T

const WORDS = ['a', 'héllo', '日本語', '😀x', '\u{1F600}\u{1F601}', '', 'z\u0000', '\uFEFFbom', 'ascii text']
const anyValue = (r: Rand, depth = 0): unknown => {
  const k = Math.floor(r() * (depth > 2 ? 10 : 12))
  switch (k) {
    case 0:
      return undefined
    case 1:
      return null
    case 2:
      return Math.floor(r() * 200) - 100
    case 3:
      return r() < 0.5 ? 2 ** 40 + 3 : -(2 ** 52)
    case 4:
      return r() - 0.5
    case 5:
      return BigInt(2) ** 62n - 7n
    case 6:
      return r() < 0.5
    case 7:
      return pick(r, WORDS)
    case 8:
      return new Uint8Array([0, 255, Math.floor(r() * 256)])
    case 9:
      return 0.1
    case 10:
      return [anyValue(r, depth + 1), anyValue(r, depth + 1)]
    default:
      return { [pick(r, WORDS)]: anyValue(r, depth + 1), k: [anyValue(r, depth + 1)] }
  }
}

/** A value Y.Map.set and Y.Array.insert take: no top-level undefined or bigint (nested ones are fine). */
const topValue = (r: Rand): unknown => {
  const v = anyValue(r)
  return v === undefined || typeof v === 'bigint' ? { v } : v
}

const CLIENT_IDS = [1, 2 ** 31 + 5, 2 ** 32 + 7, 2 ** 53 - 1, 0xffff_fffe, 0xffff_ffff]
const NARROW_IDS = [1, 7, 2 ** 31 + 5, 0xffff_fffe]

/** Random edits: text with formats and embeds, nested maps and arrays, XML with hooks, subdocs, deletions. */
const edit = (doc: Y.Doc, r: Rand, n: number): void => {
  const text = doc.getText('text')
  const map = doc.getMap<unknown>('map')
  const arr = doc.getArray<unknown>('arr')
  const xml = doc.getXmlFragment('xml')
  for (let i = 0; i < n; i++) {
    const k = r()
    const word = pick(r, WORDS)
    if (k < 0.25 || text.length === 0) {
      const at = Math.floor(r() * (text.length + 1))
      if (r() < 0.2) text.insert(at, `${word}b`, { bold: r() < 0.5 ? true : null, size: 3 })
      else if (r() < 0.1) text.insertEmbed(at, { image: word, n: 1 })
      else text.insert(at, word || 'q')
      if (r() < 0.2 && text.length > 2) text.format(0, Math.floor(text.length / 2), { italic: r() < 0.5 ? true : null })
    } else if (k < 0.38) {
      const at = Math.floor(r() * text.length)
      // May split a surrogate pair: Yjs writes U+FFFD for each half.
      text.delete(at, Math.min(text.length - at, 1 + Math.floor(r() * 4)))
    } else if (k < 0.5) {
      const key = `k${Math.floor(r() * 6)}`
      map.set(key, r() < 0.7 ? topValue(r) : new Y.Map())
      if (r() < 0.1) map.delete(key)
    } else if (k < 0.62) {
      const inner = map.get('nest')
      if (inner instanceof Y.Map) {
        const l = inner.get('list')
        if (l instanceof Y.Array) l.insert(Math.floor(r() * (l.length + 1)), [topValue(r), new Y.Text(word)])
        else inner.set('list', new Y.Array())
      } else map.set('nest', new Y.Map())
    } else if (k < 0.72) {
      if (arr.length > 2 && r() < 0.3) arr.delete(Math.floor(r() * (arr.length - 1)), 2)
      else
        arr.insert(Math.floor(r() * (arr.length + 1)), [
          topValue(r),
          [anyValue(r)],
          r() < 0.5 ? new Uint8Array([1, 2, 3]) : new Y.Array(),
        ])
    } else if (k < 0.85) {
      const el = new Y.XmlElement(pick(r, ['p', 'h1', 'ünï']))
      el.setAttribute('class', word)
      const t = new Y.XmlText(word || 'x')
      el.insert(0, [t])
      t.format(0, 1, { b: true })
      const node = r() < 0.2 ? new Y.XmlHook(pick(r, ['hook', 'hök'])) : el
      xml.insert(Math.floor(r() * (xml.length + 1)), [node as Y.XmlElement])
    } else if (k < 0.92) {
      if (xml.length > 0) xml.delete(Math.floor(r() * xml.length), 1)
    } else {
      const sub = new Y.Doc(r() < 0.5 ? { autoLoad: true, meta: { a: [1, 'b'] } } : { shouldLoad: false })
      map.set(`sub${Math.floor(r() * 3)}`, sub)
    }
  }
}

const sync = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))

/** A hand-written update with ContentJSON (no Yjs API writes it any more) and ContentDeleted. */
const legacyUpdate = (client: number): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // one client
  encoding.writeVarUint(e, 3) // three structs
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, 0)
  encoding.writeUint8(e, 2) // ContentJSON, parent by name
  encoding.writeVarUint(e, 1)
  encoding.writeVarString(e, 'legacy')
  encoding.writeVarUint(e, 3)
  for (const s of ['1', '"x😀"', 'undefined']) encoding.writeVarString(e, s)
  encoding.writeUint8(e, 1 | 0x80) // ContentDeleted after the JSON item
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, 2)
  encoding.writeVarUint(e, 4)
  encoding.writeUint8(e, 0) // GC
  encoding.writeVarUint(e, 2)
  encoding.writeVarUint(e, 1) // delete set: one client
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, 3)
  encoding.writeVarUint(e, 4)
  return encoding.toUint8Array(e)
}

/** Updates of a random history: each replica's states, incremental updates, merges with gaps. */
const randomUpdates = (r: Rand, narrow = false): { updates: Uint8Array[]; history: Uint8Array[] } => {
  const n = 2 + Math.floor(r() * 3)
  // Narrow: every id fits the scan's 32-bit table, so the state is cut from its bytes.
  const ids = [...(narrow ? NARROW_IDS : CLIENT_IDS)].sort(() => r() - 0.5).slice(0, n)
  const docs = ids.map((id) => {
    const d = new Y.Doc({ gc: r() < 0.5 })
    d.clientID = id
    return d
  })
  const increments: Uint8Array[] = []
  for (const d of docs) d.on('update', (u: Uint8Array) => increments.push(u))
  const history: Uint8Array[] = []
  for (let step = 0; step < 5; step++) {
    for (const d of docs) edit(d, r, 4 + Math.floor(r() * 10))
    const a = pick(r, docs)
    const b = pick(r, docs)
    if (a !== b) {
      sync(a, b)
      sync(b, a)
    }
    history.push(Y.encodeStateAsUpdate(pick(r, docs)))
  }
  const updates = [...docs.map((d) => Y.encodeStateAsUpdate(d)), ...increments.filter(() => r() < 0.2)]
  // Gaps: a merge of some increments leaves Skips.
  updates.push(Y.mergeUpdates(increments.filter(() => r() < 0.5)))
  updates.push(legacyUpdate(pick(r, ids)))
  return { updates, history }
}

/** Yjs's structs of an update, as the scan's rows should read them. */
const yjsRows = (update: Uint8Array) => {
  const { structs, ds } = Y.decodeUpdate(update)
  /** Some id or clock past 32 bits (the scan then keeps no table). */
  let wide = false
  const w = (id: Y.ID | null) => {
    if (id !== null && (id.client >= NONE || id.clock >= NONE)) wide = true
  }
  const rows = structs.map((s) => {
    let ref = GC_REF
    let origin: Y.ID | null = null
    let need: Y.ID | null = null
    if (s.id.client >= NONE || s.id.clock + s.length >= NONE) wide = true
    if (s instanceof Y.Skip) ref = SKIP_REF
    else if (s instanceof Y.Item) {
      ref = s.content.getRef()
      origin = s.origin
      need = s.rightOrigin ?? (s.origin === null && s.parent instanceof Y.ID ? s.parent : null)
      w(origin)
      w(need)
    }
    return [
      s.id.client,
      s.id.clock,
      s.length,
      ref,
      origin?.client ?? NONE,
      origin?.clock ?? NONE,
      need?.client ?? NONE,
      need?.clock ?? NONE,
    ]
  })
  return { rows, ds, wide }
}

/** The scan's rows in the same shape; checks that consecutive rows tile the bytes. */
const scanRows = (update: Uint8Array) => {
  const scan = scanUpdate(update)
  const rows: number[][] = []
  let at = -1
  if (scan.table !== undefined) {
    const t = scan.table
    for (const run of scan.runs) {
      // A run's structs tile its bytes (a run header sits between runs).
      at = -1
      for (let i = run.first; i < run.first + run.count; i++) {
        const o = i * STRIDE
        if (at !== -1) expect(t[START + o]).toBe(at)
        at = t[END + o] as number
        rows.push([
          run.client,
          t[CLOCK + o] as number,
          t[LENGTH + o] as number,
          t[REF + o] as number,
          t[ORIGIN_CLIENT + o] as number,
          t[ORIGIN_CLOCK + o] as number,
          t[NEED_CLIENT + o] as number,
          t[NEED_CLOCK + o] as number,
        ])
      }
    }
    if (at !== -1) expect(at).toBe(scan.deleteSetAt)
  }
  return { scan, rows }
}

/** The state vector of one update from its clock ranges: the run from 0, per client. */
const svOfRanges = (update: Uint8Array): Map<number, number> => {
  const ranges = new Map<number, Array<[number, number]>>()
  forEachClockRange(update, (client, from, to) => {
    const l = ranges.get(client) ?? []
    l.push([from, to])
    ranges.set(client, l)
  })
  const sv = new Map<number, number>()
  for (const [client, list] of ranges) {
    list.sort((a, b) => a[0] - b[0])
    let clock = 0
    for (const [from, to] of list) {
      if (from > clock) break
      clock = Math.max(clock, to)
    }
    if (clock > 0) sv.set(client, clock)
  }
  return sv
}

const checkScan = (update: Uint8Array): void => {
  const yjs = yjsRows(update)
  const { scan, rows } = scanRows(update)
  expect(svOfRanges(update)).toEqual(Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update)))
  expect(scan.table === undefined).toBe(yjs.wide)
  if (scan.table !== undefined) expect(rows).toEqual(yjs.rows)
  expect(scan.runs.reduce((n, r) => n + r.count, 0)).toBe(yjs.rows.length)
  const ds = deleteSetOf(scan)
  const yds = new Map([...yjs.ds.clients].map(([c, items]) => [c, items.map((d) => [d.clock, d.len])]))
  expect(new Map([...ds.ranges].filter(([, l]) => l.length > 0))).toEqual(yds)
}

const partsOf = (splitter: { next(): Uint8Array | undefined }): Uint8Array[] => {
  const parts: Uint8Array[] = []
  for (let p = splitter.next(); p !== undefined; p = splitter.next()) parts.push(p)
  return parts
}

/** The splitter's parts for a peer at `peerState`, applied, then the final diff: the whole. */
const checkSplit = (state: Uint8Array, peerState: Uint8Array, maxBytes: number): boolean => {
  const scan = scanUpdate(state)
  const sv = Y.encodeStateVectorFromUpdate(peerState)
  const encoded = EncodedSplitter.of(scan, sv, maxBytes)
  if (encoded === undefined) return false
  const parts = partsOf(encoded)
  const clients = new Map<number, Array<Y.Item | Y.GC | Y.Skip>>()
  for (const s of Y.decodeUpdate(state).structs) {
    const l = clients.get(s.id.client) ?? []
    l.push(s)
    clients.set(s.id.client, l)
  }
  const decoded = new DiffSplitter({ clients }, sv, maxBytes)
  expect(parts).toEqual(partsOf(decoded))
  expect(encoded.covered()).toEqual(decoded.covered())
  const final = Y.diffUpdate(state, encoded.covered())
  // Applied one by one, the parts and the final diff rebuild the whole. A receiver's Y.Text
  // deletes format items it finds redundant after each remote transaction, so a receiver of
  // parts may delete other ones than a receiver of the whole (see the report): the two
  // converge once each has the other's such deletions, as two replicas do.
  const local = (doc: Y.Doc, out: Uint8Array[]) =>
    doc.on('update', (u: Uint8Array, _o: unknown, _d: Y.Doc, tr: Y.Transaction) => {
      if (tr.local) out.push(u)
    })
  const peer = new Y.Doc()
  Y.applyUpdate(peer, peerState)
  const whole = new Y.Doc()
  Y.applyUpdate(whole, peerState)
  const peerCleanup: Uint8Array[] = []
  const wholeCleanup: Uint8Array[] = []
  local(peer, peerCleanup)
  local(whole, wholeCleanup)
  for (const p of parts) Y.applyUpdate(peer, p)
  Y.applyUpdate(peer, final)
  Y.applyUpdate(whole, state)
  expect(Y.decodeStateVector(Y.encodeStateVector(peer))).toEqual(Y.decodeStateVector(Y.encodeStateVector(whole)))
  expect(peer.store.pendingStructs === null).toBe(whole.store.pendingStructs === null)
  expect(peer.store.pendingDs === null).toBe(whole.store.pendingDs === null)
  expect(peer.toJSON()).toEqual(whole.toJSON())
  for (const u of [...peerCleanup]) Y.applyUpdate(whole, u)
  for (const u of [...wholeCleanup]) Y.applyUpdate(peer, u)
  expect(Y.encodeStateAsUpdate(peer)).toEqual(Y.encodeStateAsUpdate(whole))
  expect(peer.getText('text').toDelta()).toEqual(whole.getText('text').toDelta())
  return true
}

describe('update scan against Yjs (property)', () => {
  it('every struct, clock range and delete set a scan reads equals what Yjs decodes, and cut parts rebuild the whole, for random documents of every content kind', () => {
    const seed = seedFor('update-scan property', import.meta.url)
    const r = seededRandom(seed)
    let cut = 0
    for (let round = 0; round < 8; round++) {
      const { updates, history } = randomUpdates(r, round % 2 === 0)
      for (const u of updates) checkScan(u)
      const state = Y.mergeUpdates(updates.slice(0, -2))
      checkScan(state)
      for (const peer of [new Uint8Array([0, 0]), ...history]) {
        for (const maxBytes of [1, 40, 300, 5000]) if (checkSplit(state, peer, maxBytes)) cut++
      }
      // A state with gaps (Skip structs), cut for a peer with nothing.
      const gappy = updates[updates.length - 2] as Uint8Array
      for (const maxBytes of [1, 300]) checkSplit(gappy, new Uint8Array([0, 0]), maxBytes)
    }
    expect(cut).toBeGreaterThan(0)
  })

  it('a real editing trace scans as Yjs decodes it, and its cut parts rebuild the whole', () => {
    const dir = process.env.CONVERGE_TRACES_DIR ?? join(__dirname, '..', '..', '..', '..', 'shared', 'data', 'traces')
    const file = join(dir, 'sveltecomponent.json.gz')
    if (!existsSync(file)) {
      if (process.env.CONVERGE_REQUIRE_TRACES === '1') throw new Error(`trace ${file} missing`)
      console.warn(`[update-scan property] trace ${file} not found (set CONVERGE_TRACES_DIR): skipped`)
      return
    }
    const trace = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
      txns: Array<{ patches: Array<[number, number, string]> }>
    }
    const doc = new Y.Doc()
    doc.clientID = 2 ** 31 + 9
    const text = doc.getText('t')
    const increments: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => increments.push(u))
    const snapshots: Uint8Array[] = [new Uint8Array([0, 0])]
    trace.txns.forEach(({ patches }, i) => {
      doc.transact(() => {
        for (const [pos, del, ins] of patches) {
          if (del > 0) text.delete(pos, del)
          if (ins !== '') text.insert(pos, ins)
        }
      })
      if (i % 5000 === 4999) snapshots.push(Y.encodeStateAsUpdate(doc))
    })
    const state = Y.encodeStateAsUpdate(doc)
    checkScan(state)
    for (let i = 0; i < increments.length; i += 97) checkScan(increments[i] as Uint8Array)
    // A snapshot ending inside a struct the state merged is left to the decoded structs (not cut).
    const cut = snapshots.filter((peer) => checkSplit(state, peer, 64 * 1024))
    expect(cut.length).toBeGreaterThan(0)
  })

  it('mutated or truncated updates either throw or scan exactly as Yjs decodes them, in bounded time', () => {
    const seed = seedFor('update-scan hostile', import.meta.url)
    const r = seededRandom(seed)
    let both = 0
    let onlyYjs = 0
    let onlyScan = 0
    for (let round = 0; round < 6; round++) {
      const { updates } = randomUpdates(r)
      for (const valid of updates) {
        for (let m = 0; m < 40; m++) {
          const bad = valid.slice()
          const kind = r()
          let input: Uint8Array
          if (kind < 0.3) input = bad.subarray(0, Math.floor(r() * bad.length))
          else {
            for (let f = 0; f < 1 + Math.floor(r() * 3); f++) {
              const at = Math.floor(r() * bad.length)
              bad[at] = kind < 0.6 ? Math.floor(r() * 256) : (bad[at] as number) ^ (1 << Math.floor(r() * 8))
            }
            input = bad
          }
          const started = performance.now()
          let scanned: ReturnType<typeof scanRows> | undefined
          let sv: Map<number, number> | undefined
          try {
            scanned = scanRows(input)
            sv = svOfRanges(input)
            deleteSetOf(scanned.scan)
          } catch {
            scanned = undefined
          }
          expect(performance.now() - started).toBeLessThan(1000)
          let yjs: ReturnType<typeof yjsRows> | undefined
          let ysv: Map<number, number> | undefined
          try {
            yjs = yjsRows(input)
            ysv = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(input))
          } catch (err) {
            yjs = undefined
            // The scan reads no JSON (ContentJSON, Embed, Format) and no subdocument's options
            // (ContentDoc): only those may fail in Yjs alone. Stored updates passed Yjs's decoding.
            if (scanned !== undefined)
              expect(err instanceof SyntaxError || err instanceof TypeError, String(err)).toBe(true)
          }
          if (scanned === undefined && yjs !== undefined) onlyYjs++
          if (scanned !== undefined && yjs === undefined) onlyScan++
          if (scanned === undefined || yjs === undefined) continue
          both++
          if (scanned.scan.table !== undefined) expect(scanned.rows, `seed ${seed} round ${round}`).toEqual(yjs.rows)
          // A client listed twice: Yjs's state vector of one update keeps the last section's (see report).
          const clients = scanned.scan.runs.map((x) => x.client)
          if (new Set(clients).size === clients.length && !hasEmptySkip(yjs.rows)) expect(sv).toEqual(ysv)
        }
      }
    }
    console.log(`[update-scan hostile] both decode: ${both}; only Yjs: ${onlyYjs}; only the scan: ${onlyScan}`)
    expect(both).toBeGreaterThan(0)
  })
})

const hasEmptySkip = (rows: number[][]): boolean => rows.some((row) => row[3] === SKIP_REF && row[2] === 0)
