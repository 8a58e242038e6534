import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'
import { validateUpdate } from './update-validation.js'

/** A map chain `depth` deep under root map 'root', made by one client; returns the doc and its innermost map. */
const chain = (doc: Y.Doc, from: Y.Map<unknown>, depth: number): Y.Map<unknown> => {
  let map = from
  doc.transact(() => {
    for (let i = 0; i < depth; i++) {
      const next = new Y.Map<unknown>()
      map.set('k', next)
      map = next
    }
  })
  return map
}

/**
 * Two updates from two clients where the second builds on the first: `first` alone is
 * `firstDepth` maps deep, `second` hangs `secondDepth` more below its innermost map.
 */
const dependentUpdates = (firstDepth: number, secondDepth: number) => {
  const doc = new Y.Doc()
  const inner = chain(doc, doc.getMap('root'), firstDepth)
  const first = Y.encodeStateAsUpdate(doc)
  const sv = Y.encodeStateVector(doc)
  doc.clientID += 1
  chain(doc, inner, secondDepth)
  const second = Y.encodeStateAsUpdate(doc, sv)
  return { first, second }
}

/**
 * Client 1 writes "ab"; client 2 edits on top of it (inserts, a format, map entries): its
 * update alone leaves pending structs. An edit sequence whose pending structs, read in
 * Yjs' V1 encoding, run past their end ("Unexpected end of array").
 */
const textAndMapOnTop = () => {
  const doc = new Y.Doc()
  doc.clientID = 1
  const text = doc.getText('t')
  text.insert(0, 'ab')
  const first = Y.encodeStateAsUpdate(doc)
  const sv = Y.encodeStateVector(doc)
  doc.clientID = 2
  const map = doc.getMap('m')
  text.insert(1, 'x0')
  text.format(0, 1, { bold: true })
  map.set('k2', 2)
  map.set('k3', 3)
  text.insert(2, 'x4')
  map.set('k5', 5)
  return { first, second: Y.encodeStateAsUpdate(doc, sv) }
}

describe('update validation against pending structs', () => {
  it('an update arriving while the document holds pending structs validates (Yjs keeps pending structs in its V2 encoding)', () => {
    for (const { first, second } of [textAndMapOnTop(), dependentUpdates(2, 2)]) {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, second)
      expect(doc.store.pendingStructs).not.toBeNull()
      const decoded = validateUpdate(doc, first, 'd', { maxNestingDepth: 100, maxPendingBytes: undefined })
      expect(decoded.structs.length).toBeGreaterThan(0)
      Y.applyUpdate(doc, first)
      expect(doc.store.pendingStructs).toBeNull()
    }
  })

  it('a relay holding pending structs stores the update that completes them, and the document loads whole', async () => {
    const { first, second } = textAndMapOnTop()
    const store = new MemoryStore()
    const relay = new Replica({ role: 'relay', store })
    await relay.applyUpdate('d', second)
    await relay.applyUpdate('d', first)
    const reloaded = new Y.Doc()
    Y.applyUpdate(reloaded, (await store.load('d')) as Uint8Array)
    expect(reloaded.store.pendingStructs).toBeNull()
    expect(reloaded.getText('t').toString()).toBe('axx40b')
    expect(reloaded.getMap('m').toJSON()).toEqual({ k2: 2, k3: 3, k5: 5 })
    await relay.destroy()
  })

  it('types waiting in pending structs count toward the nesting depth of the update they hang below', async () => {
    // Alone each half is 60 deep; together 120, past the relay's 100.
    const { first, second } = dependentUpdates(60, 60)
    const store = new MemoryStore()
    const relay = new Replica({ role: 'relay', store, maxNestingDepth: 100 })
    await relay.applyUpdate('d', second)
    await expect(relay.applyUpdate('d', first)).rejects.toMatchObject({ code: 'CONVERGE_LIMIT_EXCEEDED' })
    await relay.destroy()
  })
})
