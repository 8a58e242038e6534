/**
 * Unload: once its last client left and the unload delay passed, a relay keeps nothing of
 * a document in memory (only its stored bytes), and the document reloads identical.
 */
import { MemoryNetwork, MemoryStore, Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { MemoryLevel } from 'memory-level'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { liveObjects } from '../helpers/live-objects.js'
import { waitFor } from '../helpers/wait.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

const DOCS = ['u-1', 'u-2', 'u-3']

/** Two clients per document (one y-websocket framed on u-1) edit and share presence, then leave; returns the relay's states. */
const editAndLeave = async (
  relay: Replica,
  net: MemoryNetwork,
  ownDocs: string[],
): Promise<Map<string, Uint8Array>> => {
  const before = new Map<string, Uint8Array>()
  const clients: Replica[] = []
  for (const name of DOCS) {
    for (let i = 0; i < 2; i++) {
      const c = new Replica({ peerId: `${name}-${i}` })
      clients.push(c)
      const doc = await c.open(name)
      const yWebsocket = name === 'u-1' && i === 1
      c.connect(net.connector(yWebsocket ? 'relay/y' : 'relay', c.peerId), {
        ...(yWebsocket ? { framing: { yWebsocketDoc: name } } : {}),
      })
      await c.whenSynced(name, { timeout: 10_000 })
      doc.getText('t').insert(0, `${name} from ${i}; `)
      doc.getMap('m').set(`k${i}`, i)
      c.awareness(name).setLocalStateField('cursor', i)
      // y-websocket framing carries no `saved`: the relay's copy shows the edit instead.
      if (yWebsocket) await waitFor(() => relay.loadedDoc(name)?.getMap('m').get(`k${i}`) === i)
      else await c.whenSaved(name, { timeout: 10_000 })
    }
  }
  for (const name of DOCS) {
    await waitFor(() => relay.loadedDoc(name)?.getText('t').length === 2 * `${name} from 0; `.length)
    before.set(name, Y.encodeStateAsUpdate(relay.loadedDoc(name) as Y.Doc))
  }
  expect(relay.loadedDocs().sort()).toEqual([...ownDocs, ...DOCS].sort())
  for (const c of clients) await c.destroy()
  return before
}

/** A relay on `store` that unloads after 30 ms, on a memory network (converge.v1 at 'relay', y-websocket for u-1 at 'relay/y'), ready. */
const startRelay = async (store: MemoryStore | LevelStore) => {
  const net = new MemoryNetwork()
  const unloaded: string[] = []
  const relay = new Replica({
    role: 'relay',
    peerId: 'relay',
    store,
    unloadDelay: 30,
    observer: { docUnloaded: (name) => void unloaded.push(name) },
  })
  net.listen('relay', (t) => relay.accept(t))
  net.listen('relay/y', (t) => relay.accept(t, { framing: { yWebsocketDoc: 'u-1' } }))
  cleanups.push(() => relay.destroy())
  await relay.ready
  return { net, relay, unloaded }
}

describe('unload', () => {
  it('after the last client leaves and the unload delay passes, the relay holds no document, session or presence in memory, and each document reloads identical', async () => {
    const store = new MemoryStore()
    const { net, relay, unloaded } = await startRelay(store)
    // The relay's own documents (its tombstones) stay loaded: the baseline to come back to.
    const counted = ['ReplicaDoc', 'DocSession', 'Awareness', 'Doc', 'AwarenessCoalescer', 'Link', 'Route']
    const baseline = await liveObjects(counted)
    const ownDocs = relay.loadedDocs()

    // Clients come and go in a function of their own: nothing of them stays on this frame.
    const before = await editAndLeave(relay, net, ownDocs)

    await waitFor(() => DOCS.every((d) => unloaded.includes(d)), { what: 'every document to unload' })
    expect(relay.loadedDocs()).toEqual(ownDocs)
    for (const name of DOCS) expect(relay.loadedDoc(name)).toBeUndefined()
    for (const peer of relay.peers) expect(peer.sharedDocs()).toEqual([])
    // Nothing of a document is reachable any more: its Y.Doc, sessions and presence were freed.
    expect(await liveObjects(counted)).toEqual(baseline)

    // Each document reloads identical, for a new client and on the relay.
    for (const name of DOCS) {
      const c = new Replica({ peerId: `${name}-again` })
      cleanups.push(() => c.destroy())
      const doc = await c.open(name)
      c.connect(net.connector('relay', c.peerId))
      await c.whenSynced(name, { timeout: 10_000 })
      const expected = new Y.Doc()
      Y.applyUpdate(expected, before.get(name) as Uint8Array)
      expect(doc.getText('t').toString()).toBe(expected.getText('t').toString())
      expect(doc.getMap('m').toJSON()).toEqual(expected.getMap('m').toJSON())
      expect(Y.encodeStateVector(relay.loadedDoc(name) as Y.Doc)).toEqual(Y.encodeStateVector(expected))
    }
  })

  it('with a LevelStore, an unloaded document leaves no counts, caches or names in the memory of the store, and reloads identical', async () => {
    const store = new LevelStore(new MemoryLevel())
    const { net, relay, unloaded } = await startRelay(store)
    const ownDocs = relay.loadedDocs()
    const baseline = store.docsInMemory

    const before = await editAndLeave(relay, net, ownDocs)
    expect(store.docsInMemory).toBeGreaterThanOrEqual(baseline + DOCS.length)

    await waitFor(() => DOCS.every((d) => unloaded.includes(d)), { what: 'every document to unload' })
    expect(store.docsInMemory).toBe(baseline)
    expect(await store.list()).toEqual(expect.arrayContaining(DOCS))
    for (const name of DOCS) {
      const expected = new Y.Doc()
      Y.applyUpdate(expected, before.get(name) as Uint8Array)
      const stored = new Y.Doc()
      Y.applyUpdate(stored, (await store.load(name)) as Uint8Array)
      expect(Y.encodeStateVector(stored)).toEqual(Y.encodeStateVector(expected))
      expect(stored.getText('t').toString()).toBe(expected.getText('t').toString())
    }
  })
})
