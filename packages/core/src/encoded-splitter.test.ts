import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { EncodedDoc } from './encoded-doc.js'
import { EncodedSplitter } from './encoded-splitter.js'
import { DiffSplitter } from './split-diff.js'
import { CLOCK, deleteSetOf, forEachClockRange, LENGTH, REF, SKIP_REF, STRIDE, scanUpdate } from './update-scan.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261128)

/** Random edits of every content kind: text (with formats, embeds, non-ASCII), maps, arrays, XML, binary, deletes. */
const edit = (doc: Y.Doc, random: () => number, n: number) => {
  const text = doc.getText('text')
  const map = doc.getMap<unknown>('map')
  const xml = doc.getXmlFragment('xml')
  const words = ['abc', 'héllo', '日本語', '😀x', 'z', '\u{1F600}\u{1F601}']
  for (let i = 0; i < n; i++) {
    const r = random()
    const word = words[Math.floor(random() * words.length)] as string
    if (r < 0.35 || text.length === 0) {
      const at = Math.floor(random() * (text.length + 1))
      if (random() < 0.2) text.insert(at, word, { bold: random() < 0.5 })
      else if (random() < 0.05) text.insertEmbed(at, { image: word })
      else text.insert(at, word)
    } else if (r < 0.5) {
      const at = Math.floor(random() * text.length)
      text.delete(at, Math.min(text.length - at, 1 + Math.floor(random() * 4)))
    } else if (r < 0.65) {
      const v = random()
      map.set(`k${Math.floor(v * 10)}`, v < 0.3 ? v : v < 0.6 ? { nested: [word, v] } : new Uint8Array([1, 2, 3]))
    } else if (r < 0.8) {
      const key = `list${Math.floor(random() * 3)}`
      let list = map.get(key)
      if (!(list instanceof Y.Array)) {
        list = new Y.Array<unknown>()
        map.set(key, list)
      }
      const l = list as Y.Array<unknown>
      if (l.length > 2 && random() < 0.3) l.delete(0, 1)
      else l.push([i, word, null, true])
    } else if (r < 0.9) {
      const el = new Y.XmlElement(random() < 0.5 ? 'p' : 'h1')
      el.setAttribute('class', word)
      el.insert(0, [new Y.XmlText(word)])
      const node = random() < 0.1 ? new Y.XmlHook('hook') : el
      xml.insert(Math.floor(random() * (xml.length + 1)), [node as Y.XmlElement])
    } else if (xml.length > 0) {
      xml.delete(Math.floor(random() * xml.length), 1)
    }
  }
}

const sync = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))

/** Three replicas editing concurrently, merged now and then; `receiver` saw them part way. */
const scenario = (random: () => number) => {
  const docs = [new Y.Doc({ gc: random() < 0.5 }), new Y.Doc(), new Y.Doc()]
  const receiver = new Y.Doc()
  for (let step = 0; step < 6; step++) {
    for (const d of docs) edit(d, random, 15)
    const [a, b] = [docs[Math.floor(random() * 3)] as Y.Doc, docs[Math.floor(random() * 3)] as Y.Doc]
    sync(a, b)
    if (step === 2 && random() < 0.7) sync(b, receiver)
  }
  const source = docs[0] as Y.Doc
  for (const d of docs) sync(d, source)
  return { source, receiver }
}

/** An update as Yjs re-encodes it. */
const normalized = (update: Uint8Array) => Y.diffUpdate(update, new Uint8Array([0]))

const allParts = (splitter: { next(): Uint8Array | undefined }): Uint8Array[] => {
  const parts: Uint8Array[] = []
  for (let p = splitter.next(); p !== undefined; p = splitter.next()) parts.push(p)
  return parts
}

describe('update scan and EncodedSplitter', () => {
  it(`a scan finds every struct's client, clock and length and the delete set as Y.decodeUpdate does (seed ${SEED}; CONVERGE_SEED=<n> to replay)`, () => {
    const random = seededRandom(SEED)
    for (let round = 0; round < 15; round++) {
      const { source } = scenario(random)
      // A merged state with a gap: structs past it are Skips' neighbours.
      const full = Y.encodeStateAsUpdate(source)
      const decoded = Y.decodeUpdate(full)
      const scan = scanUpdate(full)
      const seen: Array<[number, number, number, boolean]> = []
      const table = scan.table as Uint32Array
      for (const run of scan.runs)
        for (let row = run.first; row < run.first + run.count; row++)
          seen.push([
            run.client,
            table[CLOCK + row * STRIDE] as number,
            table[LENGTH + row * STRIDE] as number,
            table[REF + row * STRIDE] === SKIP_REF,
          ])
      expect(seen).toEqual(decoded.structs.map((s) => [s.id.client, s.id.clock, s.length, s instanceof Y.Skip]))
      const ds = deleteSetOf(scan)
      expect(ds.ranges).toEqual(
        new Map([...decoded.ds.clients].map(([c, items]) => [c, items.map((d) => [d.clock, d.len])])),
      )
      // The section as it is: the update's last bytes, and what an update of deletions alone carries.
      expect(ds.bytes).toEqual(full.subarray(scan.deleteSetAt))
      expect(ds.bytes).toEqual(Y.encodeStateAsUpdate(source, Y.encodeStateVector(source)).subarray(1))
    }
  })

  it(`parts cut from the bytes hold the same structs in the same parts as those cut from the decoded structs, and apply one by one with nothing pending (seed ${SEED}; CONVERGE_SEED=<n> to replay)`, () => {
    const random = seededRandom(SEED + 1)
    let cut = 0
    for (let round = 0; round < 20; round++) {
      const { source, receiver } = scenario(random)
      const state = Y.encodeStateAsUpdate(source)
      const sv = Y.encodeStateVector(receiver)
      const maxBytes = 32 + Math.floor(random() * 256)
      const fromBytes = EncodedSplitter.of(scanUpdate(state), sv, maxBytes)
      const fromStructs = new DiffSplitter(
        new EncodedDoc(state, Y.encodeStateVectorFromUpdate(state)).structs(),
        sv,
        maxBytes,
      )
      const expected = allParts(fromStructs)
      if (fromBytes === undefined) {
        // Only when the receiver holds part of a struct: then the bytes cannot be cut as they are.
        continue
      }
      cut++
      const parts = allParts(fromBytes)
      // Re-encoded the same way (a decoded item drops flags its encoding ignores): the same structs.
      expect(parts.map(normalized)).toEqual(expected.map(normalized))
      expect(fromBytes.covered()).toEqual(fromStructs.covered())
      for (const part of parts) {
        Y.applyUpdate(receiver, part)
        expect(receiver.store.pendingStructs).toBeNull()
      }
      Y.applyUpdate(receiver, Y.diffUpdate(state, fromBytes.covered()))
      expect(receiver.getText('text').toDelta()).toEqual(source.getText('text').toDelta())
      expect(receiver.getMap('map').toJSON()).toEqual(source.getMap('map').toJSON())
      expect(receiver.getXmlFragment('xml').toString()).toBe(source.getXmlFragment('xml').toString())
    }
    expect(cut).toBeGreaterThan(10)
  })

  it('a peer holding part of a struct, or a state listing a client twice, is left to the decoded structs', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abcdef')
    const state = Y.encodeStateAsUpdate(doc)
    const partOf = Y.encodeStateVector(new Map([[doc.clientID, 3]]))
    expect(EncodedSplitter.of(scanUpdate(state), partOf, 1024)).toBeUndefined()
    const whole = Y.encodeStateVector(new Map([[doc.clientID, 6]]))
    expect(allParts(EncodedSplitter.of(scanUpdate(state), whole, 1024) as EncodedSplitter)).toEqual([])
    // Two sections of one client, as an unmerged concatenation would list them.
    const a = Y.encodeStateAsUpdate(doc)
    doc.getText('t').insert(6, 'gh')
    const b = Y.encodeStateAsUpdate(doc, Y.encodeStateVectorFromUpdate(a))
    const twice = new Uint8Array([2, ...a.subarray(1, a.length - 1), ...b.subarray(1)])
    expect(Y.decodeUpdate(twice).structs.length).toBe(2)
    expect(EncodedSplitter.of(scanUpdate(twice), new Uint8Array([0]), 1024)).toBeUndefined()
  })

  it('a cold document cut from its bytes answers a joiner with parts whose step 2 is the delete set alone', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    for (let i = 0; i < 200; i++) text.insert(0, `line ${i}\n`)
    text.delete(10, 50)
    const state = Y.encodeStateAsUpdate(doc)
    const encoded = new EncodedDoc(state, Y.encodeStateVectorFromUpdate(state))
    const splitter = encoded.splitter(new Uint8Array([0]), 256)
    expect(splitter).toBeInstanceOf(EncodedSplitter)
    const parts = allParts(splitter)
    expect(parts.length).toBeGreaterThan(2)
    const step2 = encoded.diff(splitter.covered())
    // No struct left: one empty struct section, then the deletions.
    expect(step2[0]).toBe(0)
    const joiner = new Y.Doc()
    for (const part of parts) Y.applyUpdate(joiner, part)
    Y.applyUpdate(joiner, step2)
    expect(joiner.getText('t').toString()).toBe(text.toString())
  })

  it('a state with gaps, or with clocks past 32 bits, is scanned as Y.decodeUpdate reads it, and the past-32-bit one is cut from its decoded structs', () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 6; i++) doc.getText('t').insert(0, `${i}abc`)
    // Without the third update: the merged state skips its clocks.
    const gapped = Y.mergeUpdates(updates.filter((_, i) => i !== 2))
    const scan = scanUpdate(gapped)
    expect(scan.hasSkips).toBe(true)
    const ranges: Array<[number, number, number]> = []
    forEachClockRange(gapped, (c, from, to) => ranges.push([c, from, to]))
    expect(ranges).toEqual([
      [doc.clientID, 0, 8],
      [doc.clientID, 12, 24],
    ])
    // One GC struct of 5 at clock 2^40: ids past 32 bits.
    const encoder = encoding.createEncoder()
    for (const n of [1, 1, 7, 2 ** 40, 0, 5, 0]) encoding.writeVarUint(encoder, n)
    const wide = encoding.toUint8Array(encoder)
    expect(Y.decodeUpdate(wide).structs[0]?.id.clock).toBe(2 ** 40)
    expect(scanUpdate(wide).table).toBeUndefined()
    expect(EncodedSplitter.of(scanUpdate(wide), new Uint8Array([0]), 1024)).toBeUndefined()
    const encoded = new EncodedDoc(wide, Y.encodeStateVectorFromUpdate(wide))
    const parts = allParts(encoded.splitter(new Uint8Array([0]), 1024))
    expect(parts.map(normalized)).toEqual([normalized(wide)])
  })

  it('a scan of bytes cut short anywhere inside the structs throws, as decoding would', () => {
    const random = seededRandom(SEED + 2)
    const { source } = scenario(random)
    const full = Y.encodeStateAsUpdate(source)
    const structsEnd = scanUpdate(full).deleteSetAt
    for (let n = 1; n < structsEnd; n += 7) expect(() => scanUpdate(full.subarray(0, n))).toThrow()
  })
})
