import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deepMapUpdate, deleteOf } from '../../../test/helpers/poison.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'
import { rebuildFromParts } from './stored-doc.js'

const hello = () => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, 'hello')
  return Y.encodeStateAsUpdate(doc)
}

describe('poison updates', () => {
  it('an update nesting maps deeper than maxNestingDepth is refused and never stored', async () => {
    const store = new MemoryStore()
    const relay = new Replica({ role: 'relay', store, maxNestingDepth: 100 })
    await relay.applyUpdate('d', deepMapUpdate(100).update)
    await expect(relay.applyUpdate('d', deepMapUpdate(101).update)).rejects.toMatchObject({
      code: 'CONVERGE_LIMIT_EXCEEDED',
    })
    // One level at a time is counted too: the document's depth plus the update's.
    const doc = await relay.open('d')
    const inner = new Y.Doc()
    Y.applyUpdate(inner, Y.encodeStateAsUpdate(doc))
    let map = inner.getMap('root')
    while (map.get('k') instanceof Y.Map) map = map.get('k') as Y.Map<unknown>
    const sv = Y.encodeStateVector(inner)
    map.set('k', new Y.Map())
    await expect(relay.applyUpdate('d', Y.encodeStateAsUpdate(inner, sv))).rejects.toMatchObject({
      code: 'CONVERGE_LIMIT_EXCEEDED',
    })
    await relay.destroy()
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await store.load('d')) as Uint8Array)
    expect(JSON.stringify(stored.getMap('root').toJSON()).split('"k"').length - 1).toBe(100)
  })

  it('a stored document that fails to load (5,000-deep map, then a delete of its root) is repaired: the failing parts are quarantined and everything else is served', async () => {
    const store = new MemoryStore()
    const deep = deepMapUpdate(5_000)
    // As a relay before this defence stored them: appended, never applied.
    await store.append('d', hello())
    await store.append('d', deep.update)
    await store.append('d', deleteOf(deep.client, deep.clock))
    const relay = new Replica({ role: 'relay', store })
    const errors: string[] = []
    relay.on('error', (_err, context) => errors.push(context))
    const doc = await relay.open('d')
    expect(doc.getText('text').toString()).toBe('hello')
    expect(() => JSON.stringify(doc.getMap('root').toJSON())).not.toThrow()
    expect(store.quarantined('d').length).toBeGreaterThanOrEqual(1)
    expect(errors.some((c) => c.includes('setting aside'))).toBe(true)
    // The admin path (encodeState of a cold document) loads cleanly too.
    await relay.destroy()
    const again = new Replica({ role: 'relay', store })
    const state = await again.encodeState('d')
    const check = new Y.Doc()
    Y.applyUpdate(check, state)
    expect(check.getText('text').toString()).toBe('hello')
    await again.destroy()
  })

  it('rebuilding from parts leaves out a part that throws while applied and keeps the parts after it', () => {
    const deep = deepMapUpdate(5_000)
    const { update, bad } = rebuildFromParts([deep.update, deleteOf(deep.client, deep.clock), hello()], () => undefined)
    expect(bad.length).toBe(1)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    expect(doc.getText('text').toString()).toBe('hello')
  })
})
