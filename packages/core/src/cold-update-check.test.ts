import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { clientSections } from './client-sections.js'
import { checkColdUpdate, shapeOf } from './cold-update-check.js'
import { deleteSetOfDoc } from './delete-set-chunks.js'
import { isRedundantUpdate } from './redundant-update.js'
import { validateUpdate } from './update-validation.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261127)

/** What the cold checks know of `doc`: its state vector, shape and deletions, as an encoded state would give them. */
const coldStateOf = (doc: Y.Doc) => ({
  sv: Y.decodeStateVector(Y.encodeStateVector(doc)),
  shape: () => shapeOf(Y.encodeStateAsUpdate(doc)),
  deleted: () => {
    const ranges = deleteSetOfDoc(doc)?.ranges ?? new Map()
    // Sorted and merged, as EncodedDoc.deleted gives them.
    return new Map(
      [...ranges].map(([c, list]) => {
        const merged: Array<[number, number]> = []
        for (const [clock, len] of [...list].sort((a, b) => a[0] - b[0])) {
          const last = merged[merged.length - 1]
          if (last !== undefined && clock <= last[0] + last[1]) last[1] = Math.max(last[1], clock + len - last[0])
          else merged.push([clock, len])
        }
        return [c, merged]
      }),
    )
  },
})

describe('cold update checks', () => {
  it('an update taken cold is one a Y.Doc validates and integrates whole (no pending structs or deletions, state vector as computed), and one called redundant changes nothing (seeded)', () => {
    const random = seededRandom(SEED)
    let accepted = 0
    let redundant = 0
    for (let run = 0; run < 40; run++) {
      const writers = Array.from({ length: 3 }, (_, i) => {
        const doc = new Y.Doc({ gc: false })
        doc.clientID = 10 + i
        const made: Uint8Array[] = []
        doc.on('update', (u: Uint8Array) => made.push(u))
        return { doc, made }
      })
      for (let step = 0; step < 30; step++) {
        const w = writers[Math.floor(random() * writers.length)] as (typeof writers)[number]
        const text = w.doc.getText('t')
        const r = random()
        // One run in four also makes map entries and nested types (the document is then not one plain list).
        const plain = run % 4 !== 0
        if (r < 0.6 || text.length === 0) text.insert(Math.floor(random() * (text.length + 1)), 'ab')
        else if (r < 0.85 || plain) text.delete(Math.floor(random() * text.length), 1)
        else if (r < 0.93) w.doc.getMap('m').set('k', step)
        else w.doc.getArray('a').insert(0, [new Y.Map()])
        const other = writers[Math.floor(random() * writers.length)] as (typeof writers)[number]
        if (random() < 0.4) Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(w.doc, Y.encodeStateVector(other.doc)))
      }
      const updates = writers.flatMap((w) => w.made)
      // The relay's document takes the updates nearly in order: now and then one from further on
      // (a gap), or one taken before (a duplicate).
      const relay = new Y.Doc({ gc: false })
      let next = 0
      for (let i = 0; i < updates.length * 1.5; i++) {
        const r = random()
        const at = r < 0.7 ? next++ : r < 0.85 ? next + Math.floor(random() * 5) : Math.floor(random() * updates.length)
        const update = updates[Math.min(at, updates.length - 1)] as Uint8Array
        const decoded = Y.decodeUpdate(update)
        const verdict = checkColdUpdate(decoded, coldStateOf(relay), clientSections(update))
        const replay = `seed ${SEED}, run ${run}, step ${i} (replay: CONVERGE_SEED=${SEED} npx vitest run --config test/vitest.config.ts packages/core/src/cold-update-check.test.ts)`
        if (verdict.kind === 'redundant') {
          redundant++
          // Refused by the Y.Doc's checks, it would close the peer: one called redundant passes them.
          expect(
            () => validateUpdate(relay, update, 'd', { maxNestingDepth: 8, maxPendingBytes: 0 }),
            replay,
          ).not.toThrow()
          expect(isRedundantUpdate(relay, decoded), replay).toBe(true)
        }
        if (verdict.kind === 'accept') {
          accepted++
          expect(
            () => validateUpdate(relay, update, 'd', { maxNestingDepth: 8, maxPendingBytes: 0 }),
            replay,
          ).not.toThrow()
          expect(relay.store.pendingStructs, replay).toBeNull()
          Y.applyUpdate(relay, update)
          expect(relay.store.pendingStructs, replay).toBeNull()
          expect(relay.store.pendingDs, replay).toBeNull()
          expect(Y.decodeStateVector(Y.encodeStateVector(relay)), replay).toEqual(verdict.reach)
        }
        // What needs a Y.Doc is applied to it, as hydration would.
        if (verdict.kind === 'hydrate') Y.applyUpdate(relay, update)
      }
    }
    // The checks decide most of the time: the property is not vacuous.
    expect(accepted).toBeGreaterThan(100)
    expect(redundant).toBeGreaterThan(50)
  })

  it("checking an update costs time linear in its structs: 20,000 clients whose items each sit next to the following client's, in either order, take under a second and integrate as a Y.Doc integrates them", () => {
    const n = 20_000
    for (const reversed of [false, true]) {
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, n)
      for (let k = 0; k < n; k++) {
        const i = reversed ? n - 1 - k : k
        encoding.writeVarUint(e, 1)
        encoding.writeVarUint(e, 1000 + i)
        encoding.writeVarUint(e, 0)
        if (i < n - 1) {
          // A string item whose origin is the next client's item.
          encoding.writeUint8(e, 4 | 0x80)
          encoding.writeVarUint(e, 1000 + i + 1)
          encoding.writeVarUint(e, 0)
        } else {
          encoding.writeUint8(e, 4)
          encoding.writeVarUint(e, 1)
          encoding.writeVarString(e, 't')
        }
        encoding.writeVarString(e, 'x')
      }
      encoding.writeVarUint(e, 0)
      const update = encoding.toUint8Array(e)
      const decoded = Y.decodeUpdate(update)
      const started = performance.now()
      const verdict = checkColdUpdate(
        decoded,
        {
          sv: new Map(),
          shape: () => ({ root: undefined }),
          deleted: () => new Map(),
        },
        clientSections(update),
      )
      const took = performance.now() - started
      expect(verdict.kind).toBe('accept')
      const doc = new Y.Doc()
      Y.applyUpdate(doc, update)
      expect(doc.store.pendingStructs).toBeNull()
      expect(verdict.kind === 'accept' ? verdict.reach : undefined).toEqual(
        Y.decodeStateVector(Y.encodeStateVector(doc)),
      )
      expect(took, `reversed: ${reversed}`).toBeLessThan(1000)
    }
  })

  it.each([
    [[3, 0], 3],
    // Contiguous clocks: the decoded structs read as one block; Yjs applies only the second.
    [[3, 4], 3],
  ])(
    'an update that holds a client in two blocks at clocks %j (Yjs applies only the last) is left to the Y.Doc',
    (clocks, after) => {
      const doc = new Y.Doc()
      doc.clientID = 5
      doc.getText('t').insert(0, 'abc')
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, 2)
      for (const clock of clocks) {
        encoding.writeVarUint(e, 1)
        encoding.writeVarUint(e, 5)
        encoding.writeVarUint(e, clock)
        encoding.writeUint8(e, 4)
        encoding.writeVarUint(e, 1)
        encoding.writeVarString(e, 't')
        encoding.writeVarString(e, 'x')
      }
      encoding.writeVarUint(e, 0)
      const update = encoding.toUint8Array(e)
      const verdict = checkColdUpdate(
        Y.decodeUpdate(update),
        {
          sv: Y.decodeStateVector(Y.encodeStateVector(doc)),
          shape: () => shapeOf(Y.encodeStateAsUpdate(doc)),
          deleted: () => new Map(),
        },
        clientSections(update),
      )
      expect(verdict.kind).toBe('hydrate')
      // What a Y.Doc does with it: the struct of the first block is not applied.
      Y.applyUpdate(doc, update)
      expect(Y.getState(doc.store, 5)).toBe(after)
    },
  )

  it('a sync step 2 that repeats a delete set of 40,000 ranges (what a joining client sends) is found redundant in time linear in the ranges', () => {
    const doc = new Y.Doc()
    doc.clientID = 3
    doc.getText('t').insert(0, 'ab'.repeat(40_000))
    // Every other character deleted, each its own range (written directly: 40,000 deletions in a Y.Doc take long).
    const ranges = new Map([[3, Array.from({ length: 40_000 }, (_, i): [number, number] => [2 * i, 1])]])
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, 3)
    encoding.writeVarUint(e, 40_000)
    for (const [clock, len] of ranges.get(3) ?? []) {
      encoding.writeVarUint(e, clock)
      encoding.writeVarUint(e, len)
    }
    const step2 = encoding.toUint8Array(e)
    const stored = Y.mergeUpdates([Y.encodeStateAsUpdate(doc), step2])
    const state = {
      sv: Y.decodeStateVector(Y.encodeStateVector(doc)),
      shape: () => shapeOf(stored),
      deleted: () => ranges,
    }
    const decoded = Y.decodeUpdate(step2)
    const started = performance.now()
    const verdict = checkColdUpdate(decoded, state, clientSections(step2))
    const took = performance.now() - started
    expect(verdict.kind).toBe('redundant')
    expect(took).toBeLessThan(500)
  })
})
