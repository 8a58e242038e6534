/**
 * The Store conformance suite: every Store implementation must pass these cases. It is
 * plain async functions with its own assertions, so it runs under vitest in Node and
 * inside a browser page (IndexedDB) alike.
 *
 *   for (const c of storeConformanceCases) it(c.name, () => c.run(makeHarness()))
 */
import * as Y from 'yjs'
import { isConvergeError } from './errors.js'
import { digestOfDoc, EMPTY_STATE_VECTOR, equalBytes } from './state-digest.js'
import type { Store } from './store.js'

/** A place where a store lives. `open()` again after `close()` reopens the same data. */
export interface StoreHarness {
  open(): Promise<Store>
}

export interface ConformanceCase {
  name: string
  run(harness: StoreHarness): Promise<void>
}

const check: (condition: unknown, message: string) => asserts condition = (condition, message) => {
  if (!condition) throw new Error(`conformance: ${message}`)
}

const docFrom = (update: Uint8Array | undefined): Y.Doc => {
  const doc = new Y.Doc()
  if (update !== undefined) Y.applyUpdate(doc, update)
  return doc
}

const contentOf = (doc: Y.Doc) =>
  JSON.stringify({
    text: doc.getText('text').toString(),
    map: doc.getMap('map').toJSON(),
    array: doc.getArray('array').toJSON(),
  })

/** Makes a doc with some edits and returns it with every update it emitted. */
const editedDoc = (clientID: number, edits: number): { doc: Y.Doc; updates: Uint8Array[] } => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < edits; i++) {
    const text = doc.getText('text')
    text.insert(Math.floor(text.length / 2), `e${i} `)
    if (i % 3 === 0) doc.getMap('map').set(`k${i % 7}`, i)
    if (i % 5 === 0) doc.getArray('array').push([i])
    if (i % 4 === 3 && text.length > 4) text.delete(1, 2)
  }
  return { doc, updates }
}

const sameState = async (store: Store, name: string, expected: Y.Doc, what: string) => {
  const loaded = docFrom(await store.load(name))
  check(contentOf(loaded) === contentOf(expected), `${what}: content differs`)
  check(equalBytes(Y.encodeStateVector(loaded), Y.encodeStateVector(expected)), `${what}: loaded state vector differs`)
  check(
    equalBytes(await store.stateVector(name), Y.encodeStateVector(expected)),
    `${what}: stateVector() differs from the document's`,
  )
}

export const storeConformanceCases: ConformanceCase[] = [
  {
    name: 'an unknown document loads as undefined with an empty state vector, and is not listed',
    async run(h) {
      const store = await h.open()
      check((await store.load('nothing')) === undefined, 'load of an unknown doc is not undefined')
      check(equalBytes(await store.stateVector('nothing'), EMPTY_STATE_VECTOR), 'state vector is not empty')
      check((await store.list()).length === 0, 'list is not empty')
      await store.close()
    },
  },
  {
    name: 'appended updates load back as the same document',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(1, 50)
      for (const u of updates) await store.append('a', u)
      await sameState(store, 'a', doc, 'after appends')
      await store.close()
    },
  },
  {
    name: 'appends not awaited one by one are all kept',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(2, 200)
      await Promise.all(updates.map((u) => store.append('burst', u)))
      await sameState(store, 'burst', doc, 'after a burst of appends')
      await store.close()
    },
  },
  {
    name: 'appending the same update twice is harmless',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(3, 20)
      for (const u of updates) await store.append('dup', u)
      for (const u of updates) await store.append('dup', u)
      await sameState(store, 'dup', doc, 'after duplicate appends')
      await store.close()
    },
  },
  {
    name: 'compaction keeps the content, and appends after it are kept',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(4, 120)
      for (const u of updates.slice(0, 80)) await store.append('c', u)
      await store.compact('c')
      for (const u of updates.slice(80)) await store.append('c', u)
      await sameState(store, 'c', doc, 'after compaction and more appends')
      await store.compact('c')
      await sameState(store, 'c', doc, 'after a second compaction')
      await store.compact('c')
      await store.compact('never-written')
      check((await store.load('never-written')) === undefined, 'compacting an unknown doc created it')
      await store.close()
    },
  },
  {
    name: 'appends made while a compaction runs are all kept',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(7, 300)
      const first = updates.slice(0, 100).map((u) => store.append('busy', u))
      const compacted = store.compact('busy')
      const second = updates.slice(100, 200).map((u) => store.append('busy', u))
      await Promise.all([...first, compacted, ...second])
      await Promise.all([store.compact('busy'), ...updates.slice(200).map((u) => store.append('busy', u))])
      await sameState(store, 'busy', doc, 'after appends during compactions')
      await store.close()
    },
  },
  {
    name: 'a long log loads back exactly, with its state vector',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(8, 1_500)
      // In groups, as a relay receives them: many batches, each with several updates.
      for (let i = 0; i < updates.length; i += 25) {
        await Promise.all(updates.slice(i, i + 25).map((u) => store.append('long', u)))
      }
      await sameState(store, 'long', doc, 'after 1,500 appends')
      await store.close()
    },
  },
  {
    name: 'updates stored before the ones they follow are kept; the state vector counts only what has no gap',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(9, 40)
      const later = updates.slice(20)
      for (const u of later) await store.append('gap', u)
      const partial = new Y.Doc()
      for (const u of later) Y.applyUpdate(partial, u)
      check(
        equalBytes(await store.stateVector('gap'), Y.encodeStateVector(partial)),
        'the state vector counts updates after a gap',
      )
      for (const u of updates.slice(0, 20)) await store.append('gap', u)
      await sameState(store, 'gap', doc, 'after the gap was filled')
      await store.compact('gap')
      await sameState(store, 'gap', doc, 'after compaction')
      await store.close()
    },
  },
  {
    name: 'documents whose names share a prefix stay separate',
    async run(h) {
      const store = await h.open()
      const names = ['a', 'a b', 'ab', 'a/b', 'a\u{1F600}']
      const docs = names.map((n, i) => ({ name: n, ...editedDoc(20 + i, 8) }))
      for (const d of docs) for (const u of d.updates) await store.append(d.name, u)
      await store.compact('a')
      await store.compact('ab')
      for (const d of docs) await sameState(store, d.name, d.doc, `${d.name} next to the others`)
      await store.delete('a')
      check(
        JSON.stringify(await store.list()) === JSON.stringify(names.slice(1).sort()),
        'delete of a took a neighbour',
      )
      for (const d of docs.slice(1)) await sameState(store, d.name, d.doc, `${d.name} after deleting a`)
      await store.close()
    },
  },
  {
    name: 'digests are equal for equal states and differ after a delete-only change',
    async run(h) {
      const store = await h.open()
      const { doc, updates } = editedDoc(5, 40)
      for (const u of updates) await store.append('x', u)
      await store.append('y', Y.encodeStateAsUpdate(doc))
      const dx = await store.digest('x')
      check(equalBytes(dx, await store.digest('y')), 'equal states give different digests')
      check(equalBytes(dx, digestOfDoc(doc)), 'store digest differs from the document digest')
      await store.compact('x')
      check(equalBytes(dx, await store.digest('x')), 'compaction changed the digest')
      const before = Y.encodeStateVector(doc)
      let deletion: Uint8Array | undefined
      doc.once('update', (u: Uint8Array) => {
        deletion = u
      })
      doc.getText('text').delete(0, 1)
      check(equalBytes(before, Y.encodeStateVector(doc)), 'a delete advanced the state vector')
      check(deletion !== undefined, 'no update for the deletion')
      await store.append('x', deletion)
      check(!equalBytes(dx, await store.digest('x')), 'a deletion left the digest unchanged')
      await store.close()
    },
  },
  {
    name: 'list returns stored documents sorted; delete removes one entirely',
    async run(h) {
      const store = await h.open()
      const names = ['team/b', 'team/a', 'émoji 🎉', 'z']
      for (const [i, n] of names.entries()) {
        for (const u of editedDoc(10 + i, 5).updates) await store.append(n, u)
      }
      await store.compact('z')
      check(JSON.stringify(await store.list()) === JSON.stringify([...names].sort()), 'list is not the sorted names')
      await store.delete('team/a')
      await store.delete('z')
      check(JSON.stringify(await store.list()) === JSON.stringify(['team/b', 'émoji 🎉'].sort()), 'delete left a name')
      check((await store.load('team/a')) === undefined, 'a deleted doc still loads')
      check((await store.load('z')) === undefined, 'a deleted compacted doc still loads')
      check(equalBytes(await store.stateVector('z'), EMPTY_STATE_VECTOR), 'a deleted doc keeps a state vector')
      check((await store.load('team/b')) !== undefined, 'delete removed a neighbour')
      await store.close()
    },
  },
  {
    name: 'close then reopen gives identical state',
    async run(h) {
      let store = await h.open()
      const { doc, updates } = editedDoc(6, 60)
      for (const u of updates.slice(0, 30)) await store.append('r', u)
      await store.compact('r')
      const pending = updates.slice(30).map((u) => store.append('r', u))
      await store.close()
      await Promise.all(pending)
      store = await h.open()
      await sameState(store, 'r', doc, 'after reopen')
      check(JSON.stringify(await store.list()) === JSON.stringify(['r']), 'list after reopen')
      await store.close()
    },
  },
  {
    name: '100 documents appended concurrently each load back exactly',
    async run(h) {
      const store = await h.open()
      const docs = Array.from({ length: 100 }, (_, i) => editedDoc(100 + i, 10 + (i % 7)))
      await Promise.all(
        docs.map(async ({ updates }, i) => {
          for (const u of updates) await store.append(`doc-${i}`, u)
        }),
      )
      for (const [i, { doc }] of docs.entries()) await sameState(store, `doc-${i}`, doc, `doc-${i}`)
      check((await store.list()).length === 100, 'list does not hold 100 documents')
      await store.close()
    },
  },
  {
    name: 'a closed store rejects calls with CONVERGE_STORE_CLOSED; bad names are refused',
    async run(h) {
      const store = await h.open()
      const refused = await store.append('', new Uint8Array([0, 0])).then(
        () => false,
        (e) => isConvergeError(e, 'CONVERGE_INVALID_DOC_NAME'),
      )
      check(refused, 'an empty document name was accepted')
      await store.close()
      const closed = await store.append('a', new Uint8Array([0, 0])).then(
        () => false,
        (e) => isConvergeError(e, 'CONVERGE_STORE_CLOSED'),
      )
      check(closed, 'append after close did not reject with CONVERGE_STORE_CLOSED')
    },
  },
  {
    name: 'repair (if the store has it) sets aside the parts its check rejects, keeps the rest, and the result persists',
    async run(h) {
      let store = await h.open()
      if (store.repair === undefined) {
        await store.close()
        return
      }
      const { doc, updates } = editedDoc(7, 20)
      const poison = new Y.Doc()
      poison.clientID = 8
      poison.getMap('map').set('poison', 'yes')
      const bad = Y.encodeStateAsUpdate(poison)
      for (const u of updates.slice(0, 10)) await store.append('r', u)
      await store.append('r', bad)
      for (const u of updates.slice(10)) await store.append('r', u)
      const setAside = await store.repair('r', (_ydoc, part) => {
        if (equalBytes(part, bad)) throw new Error('poison')
      })
      check(setAside === 1, `repair set aside ${setAside} parts, not 1`)
      await sameState(store, 'r', doc, 'after repair')
      await store.close()
      store = await h.open()
      await sameState(store, 'r', doc, 'after repair and reopen')
      await store.close()
    },
  },
]
