import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { relayWithClients } from '../../../test/helpers/memory-relay.js'
import { takesWhole } from './forward-as-received.js'
import { MemoryStore } from './memory-store.js'
import type { ReplicaObserver } from './replica-observer.js'

const WAIT = { timeout: 5_000, interval: 5 }

/** A writer's doc and each update it emits. */
const writer = (clientID: number) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  return { doc, updates, text: doc.getText('t') }
}

const whole = (doc: Y.Doc, update: Uint8Array) => takesWhole(doc, Y.decodeUpdate(update))

describe('which updates a Y.Doc takes whole, as received (forward-as-received.ts)', () => {
  it('an edit that starts where the document stands, refers only to what it holds and deletes only that, is taken whole; applied, it gives what the re-encoding gives', () => {
    const w = writer(1)
    const relay = new Y.Doc()
    w.text.insert(0, 'hello')
    w.text.insert(5, ' world')
    w.text.delete(0, 1)
    for (const u of w.updates) {
      expect(whole(relay, u)).toBe(true)
      Y.applyUpdate(relay, u)
    }
    // A second client's edit in the middle of the first one's text, and a deletion across both.
    const v = writer(2)
    Y.applyUpdate(v.doc, Y.encodeStateAsUpdate(relay))
    v.updates.length = 0
    v.text.insert(3, 'XY')
    v.text.delete(1, 6)
    for (const u of v.updates) {
      expect(whole(relay, u)).toBe(true)
      Y.applyUpdate(relay, u)
    }
    expect(relay.getText('t').toString()).toBe(v.text.toString())
  })

  it('a gap, an overlap with what the document holds, an unknown origin or deletion, or pending content in the document is not taken whole', () => {
    const w = writer(1)
    w.text.insert(0, 'a')
    w.text.insert(1, 'b')
    w.text.insert(2, 'c')
    const [first, second, third] = w.updates as [Uint8Array, Uint8Array, Uint8Array]
    const empty = new Y.Doc()
    // Gap: the second edit before the first.
    expect(whole(empty, second)).toBe(false)
    // Overlap: the first two merged, on a document that has the first.
    const holdsFirst = new Y.Doc()
    Y.applyUpdate(holdsFirst, first)
    expect(whole(holdsFirst, Y.mergeUpdates([first, second]))).toBe(false)
    expect(whole(holdsFirst, second)).toBe(true)
    // An origin of another client the document lacks.
    const v = writer(2)
    Y.applyUpdate(v.doc, Y.mergeUpdates([first, second]))
    v.updates.length = 0
    v.text.insert(2, 'z')
    expect(whole(holdsFirst, v.updates[0] as Uint8Array)).toBe(false)
    // A deletion of content the document lacks (client 1's second character).
    v.updates.length = 0
    v.text.delete(1, 1)
    expect(whole(holdsFirst, v.updates[0] as Uint8Array)).toBe(false)
    // Pending content: the third edit waits in the document for the second.
    Y.applyUpdate(holdsFirst, third)
    expect(holdsFirst.store.pendingStructs).not.toBeNull()
    const u = writer(3)
    u.text.insert(0, 'q')
    expect(whole(holdsFirst, u.updates[0] as Uint8Array)).toBe(false)
  })
})

/** A relay with a Y.Doc for every document, whose store writes when the test flushes it, and two clients. */
const heldRelay = async (observer: ReplicaObserver) => {
  const store = new MemoryStore({ autoFlush: false })
  const fixture = await relayWithClients({ relay: { store, observer, coldDocs: false } })
  return { ...fixture, store }
}

describe('a relay forwards a lone update as received once it is durable, then applies it', () => {
  it('no reader is sent an update before its append resolved; a lone edit goes out before the relay’s Y.Doc applies it, an edit it cannot take whole after', async () => {
    const sends: Array<{ durable: boolean; relayText: string | undefined }> = []
    let store: MemoryStore | undefined
    let relayDoc: () => Y.Doc | undefined = () => undefined
    const observer: ReplicaObserver = {
      messageOut: (peer, type) => {
        if (type !== 'update' || peer !== 'b') return
        sends.push({ durable: store?.pendingCount === 0, relayText: relayDoc()?.getText('t').toString() })
      },
    }
    const fixture = await heldRelay(observer)
    store = fixture.store
    const { net, relay, da, db, destroy } = fixture
    relayDoc = () => relay.loadedDoc('doc')
    expect(relayDoc()).toBeDefined()

    da.getText('t').insert(0, 'x')
    await vi.waitFor(() => expect(fixture.store.pendingCount).toBe(1), WAIT)
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(sends).toEqual([])
    expect(db.getText('t').toString()).toBe('')
    fixture.store.flush()
    await vi.waitFor(() => expect(db.getText('t').toString()).toBe('x'), WAIT)
    // Sent once, durable, while the relay's Y.Doc did not hold it yet: the received bytes went out.
    expect(sends).toEqual([{ durable: true, relayText: '' }])
    expect(relayDoc()?.getText('t').toString()).toBe('x')

    // Written on the relay: an edit whose start it lacks (a gap) waits in its Y.Doc, and the
    // one completing it makes the Y.Doc emit both: that goes out after the apply, as the Y.Doc's update.
    const side = new Y.Doc()
    Y.applyUpdate(side, Y.encodeStateAsUpdate(da))
    const sideUpdates: Uint8Array[] = []
    side.on('update', (u: Uint8Array) => sideUpdates.push(u))
    side.getText('t').insert(1, 'y')
    side.getText('t').insert(2, 'z')
    sends.length = 0
    const later = relay.applyUpdate('doc', sideUpdates[1] as Uint8Array)
    await vi.waitFor(() => expect(fixture.store.pendingCount).toBe(1), WAIT)
    fixture.store.flush()
    await later
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(sends).toEqual([])
    expect(relayDoc()?.store.pendingStructs).not.toBeNull()
    const completing = relay.applyUpdate('doc', sideUpdates[0] as Uint8Array)
    await vi.waitFor(() => expect(fixture.store.pendingCount).toBe(1), WAIT)
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(sends).toEqual([])
    fixture.store.flush()
    await completing
    await vi.waitFor(() => expect(db.getText('t').toString()).toBe('xyz'), WAIT)
    expect(sends).toEqual([{ durable: true, relayText: 'xyz' }])
    expect(da.getText('t').toString()).toBe('xyz')
    await destroy()
  })
})
