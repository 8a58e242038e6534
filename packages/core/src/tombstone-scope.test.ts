import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Access } from './access.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'

// A relay whose peer token grants a/* only (docs claim), dialing a hub relay.
const scopeA: Access = { canRead: (doc) => doc.startsWith('a/'), canWrite: (doc) => doc.startsWith('a/') }

const updateWith = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup) await c()
  cleanup = []
})

/** Hub H accepts relay S with a/* access; nothing is connected yet. */
const setup = () => {
  const net = new MemoryNetwork()
  const hub = new Replica({ role: 'relay', store: new MemoryStore(), peerId: 'H' })
  net.listen('H', (t) => hub.accept(t, { authorize: () => scopeA }))
  const scopedStore = new MemoryStore()
  const scoped = new Replica({ role: 'relay', store: scopedStore, peerId: 'S' })
  cleanup.push(
    () => scoped.destroy(),
    () => hub.destroy(),
  )
  return { net, hub, scoped, scopedStore, connect: () => scoped.connect(net.connector('H', 'S')) }
}

describe('tombstones reach a mesh peer whose relay token is scoped', () => {
  it('a relay scoped to a/* learns of deletes made before it connects and while it is connected, and refuses those names', async () => {
    const { hub, scoped, scopedStore, connect } = setup()
    await hub.applyUpdate('a/1', updateWith('in scope'))
    await hub.applyUpdate('b/1', updateWith('out of scope'))
    await hub.deleteDoc('a/1')
    connect()
    await expect.poll(() => scoped.isDeleted('a/1')).toBe(true)
    await hub.applyUpdate('a/2', updateWith('in scope, deleted later'))
    await expect.poll(async () => (await scopedStore.load('a/2')) !== undefined).toBe(true)
    await hub.deleteDoc('a/2')
    await expect.poll(() => scoped.isDeleted('a/2')).toBe(true)
    await expect.poll(async () => (await scopedStore.load('a/2')) === undefined).toBe(true)
    // A client of the scoped relay cannot bring a deleted document back.
    await expect(scoped.applyUpdate('a/2', updateWith('again'))).rejects.toMatchObject({ code: 'CONVERGE_DOC_DELETED' })
    // The tombstones carry names only: no content outside the scope crossed.
    expect((await scopedStore.list()).filter((d) => !d.startsWith('a/') && !d.startsWith('.converge/'))).toEqual([])
  })

  it('a relay scoped to a/* cannot delete documents on the hub through the tombstones, in its scope or outside it', async () => {
    const { hub, scoped, connect } = setup()
    await hub.applyUpdate('b/1', updateWith('out of scope'))
    await hub.applyUpdate('a/1', updateWith('in scope'))
    const refusals: string[] = []
    scoped.on('error', (err) => refusals.push(String((err as Error).message)))
    connect()
    await scoped.deleteDoc('b/1')
    await scoped.deleteDoc('a/1')
    // The hub refuses the write to its tombstones, and says so.
    await expect.poll(() => refusals.some((r) => r.includes('.converge/tombstones'))).toBe(true)
    await hub.deleteDoc('a/3')
    await expect.poll(() => scoped.isDeleted('a/3')).toBe(true)
    expect(hub.isDeleted('b/1')).toBe(false)
    expect(hub.isDeleted('a/1')).toBe(false)
    expect(await hub.store.load('b/1')).toBeDefined()
  })
})
