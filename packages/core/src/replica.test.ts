import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { relayWithClients } from '../../../test/helpers/memory-relay.js'
import { fullAccess, readOnlyAccess } from './access.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { encodeMuxFrame } from './mux-codec.js'
import { Replica } from './replica.js'
import type { Transport } from './transport.js'

const relayOn = (net: MemoryNetwork, address: string, store = new MemoryStore()) => {
  const relay = new Replica({ role: 'relay', store, peerId: address })
  net.listen(address, (t) => relay.accept(t))
  return relay
}

describe('Replica over an in-memory network', () => {
  it('two clients editing through a relay converge, and the relay saves their edits', async () => {
    const relayStore = new MemoryStore()
    const { a, b, da, db, destroy } = await relayWithClients({
      doc: 'notes',
      relay: { store: relayStore },
      timeout: 2000,
      quiet: false,
    })
    da.getText('t').insert(0, 'hello ')
    db.getMap('m').set('k', 1)
    db.getArray('l').push([1, 2, 3])
    await a.whenSaved('notes', { timeout: 2000 })
    await b.whenSaved('notes', { timeout: 2000 })
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await relayStore.load('notes')) as Uint8Array)
    expect(stored.getText('t').toString()).toBe('hello ')
    expect(stored.getMap('m').get('k')).toBe(1)
    const json = (d: Y.Doc) =>
      JSON.stringify([d.getText('t').toString(), d.getMap('m').toJSON(), d.getArray('l').toJSON()])
    await expect.poll(() => json(da) === json(db)).toBe(true)
    expect(json(da)).toBe(JSON.stringify(['hello ', { k: 1 }, [1, 2, 3]]))
    expect(Y.encodeStateVector(da)).toEqual(Y.encodeStateVector(db))
    await destroy()
  })

  it('a delete-only change is tracked as unsaved until the relay confirms it', async () => {
    const net = new MemoryNetwork()
    const relay = relayOn(net, 'relay')
    const a = new Replica()
    a.connect(net.connector('relay', 'a'))
    const doc = await a.open('d')
    doc.getText('t').insert(0, 'abc')
    await a.whenSaved('d', { timeout: 2000 })
    doc.getText('t').delete(0, 1)
    expect(a.status('d').unsaved).toBe(1)
    await a.whenSaved('d', { timeout: 2000 })
    const relayDoc = new Y.Doc()
    Y.applyUpdate(relayDoc, await relay.encodeState('d'))
    expect(relayDoc.getText('t').toString()).toBe('bc')
    await a.destroy()
    await relay.destroy()
  })

  it('status tells offline, then saving while the relay has not confirmed, then saved', async () => {
    const net = new MemoryNetwork()
    const relayStore = new MemoryStore({ autoFlush: false })
    const relay = relayOn(net, 'relay', relayStore)
    const a = new Replica()
    const doc = await a.open('s')
    expect(a.status('s')).toMatchObject({ connection: 'offline', summary: 'offline', unsaved: 0 })
    doc.getText('t').insert(0, 'x')
    expect(a.status('s')).toMatchObject({ summary: 'offline', unsaved: 1, saved: false })
    const seen: string[] = []
    a.on('status', (_name, st) => seen.push(st.summary))
    a.connect(net.connector('relay', 'a'))
    await expect.poll(() => a.status('s').summary).toBe('saving')
    // The relay holds its writes: nothing may be reported saved until they are durable.
    await expect.poll(() => relayStore.pendingCount).toBeGreaterThan(0)
    expect(a.status('s').saved).toBe(false)
    relayStore.flush()
    await a.whenSaved('s', { timeout: 2000 })
    expect(a.status('s')).toMatchObject({ connection: 'online', summary: 'saved', unsaved: 0, saved: true })
    expect(seen).toContain('saving')
    expect(seen.at(-1)).toBe('saved')
    await a.destroy()
    await relay.destroy()
  })

  it('a read-only peer never changes a document, and keeps receiving it', async () => {
    const net = new MemoryNetwork()
    const relayStore = new MemoryStore()
    const relay = new Replica({ role: 'relay', store: relayStore })
    net.listen('relay', (t) =>
      relay.accept(t, {
        authorize: (hello) => (hello.token === 'reader' ? readOnlyAccess : fullAccess),
      }),
    )
    const writer = new Replica()
    const reader = new Replica()
    writer.connect(net.connector('relay', 'w'), { token: 'writer' })
    const readerPeer = reader.connect(net.connector('relay', 'r'), { token: 'reader' })
    const refusals: unknown[] = []
    reader.on('error', (err) => refusals.push(err))
    const dw = await writer.open('ro')
    const dr = await reader.open('ro')
    dw.getText('t').insert(0, 'from writer')
    await writer.whenSaved('ro', { timeout: 2000 })
    await expect.poll(() => dr.getText('t').toString()).toBe('from writer')
    dr.getText('t').insert(0, 'sneaky ')
    await expect.poll(() => refusals.length).toBeGreaterThan(0)
    expect((refusals[0] as { code: string }).code).toBe('CONVERGE_FORBIDDEN')
    dw.getText('t').insert(dw.getText('t').length, '!')
    await expect.poll(() => dr.getText('t').toString()).toBe('sneaky from writer!')
    expect(readerPeer.status).toBe('open')
    expect(reader.status('ro').saved).toBe(false)
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await relayStore.load('ro')) as Uint8Array)
    expect(stored.getText('t').toString()).toBe('from writer!')
    expect(dw.getText('t').toString()).toBe('from writer!')
    await writer.destroy()
    await reader.destroy()
    await relay.destroy()
  })

  it('a stale removal of presence does not keep the presence alive after its session ends; the relay holds it in its presence table, not an Awareness', async () => {
    const net = new MemoryNetwork()
    let awarenessIn = 0
    const relay = new Replica({
      role: 'relay',
      observer: { messageIn: (_peer, type) => (awarenessIn += type === 'awareness' ? 1 : 0) },
    })
    net.listen('relay', (t) => relay.accept(t))
    const a = new Replica()
    const b = new Replica()
    // Hand-driven bytes go straight onto a's transport.
    let transportA: Transport | undefined
    const connectorA = net.connector('relay', 'a')
    const peerA = a.connect(() => (transportA = connectorA()))
    b.connect(net.connector('relay', 'b'))
    await a.open('p')
    await b.open('p')
    const awareness = a.awareness('p')
    awareness.setLocalStateField('user', { name: 'a' })
    awareness.setLocalStateField('user', { name: 'a2' })
    const names = () => [...b.awareness('p').getStates().values()].map((s) => s.user?.name)
    await expect.poll(names).toContain('a2')
    // A removal with an older clock: Yjs ignores it, the state stays.
    const clock = awareness.meta.get(awareness.clientID)?.clock as number
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, awareness.clientID)
    encoding.writeVarUint(e, clock - 1)
    encoding.writeVarString(e, 'null')
    const before = awarenessIn
    transportA?.send(encodeMuxFrame({ type: 'awareness', doc: 'p', update: encoding.toUint8Array(e) }))
    await expect.poll(() => awarenessIn).toBe(before + 1)
    expect(names()).toContain('a2')
    // The relay keeps it in its presence table: no y-protocols Awareness, no state of its own.
    const atRelay = relay.presence('p')
    expect(atRelay.ownId).toBeUndefined()
    expect(() => relay.awareness('p')).toThrow(expect.objectContaining({ code: 'CONVERGE_NOT_OPEN' }))
    expect(atRelay.states().get(awareness.clientID)).toEqual({ user: { name: 'a2' } })
    expect(atRelay.clockOf(awareness.clientID)).toBe(clock)
    // Its session ends: the presence goes with it, not 30 s later.
    peerA.close()
    await expect.poll(names).not.toContain('a2')
    expect(atRelay.has(awareness.clientID)).toBe(false)
    expect(atRelay.clockOf(awareness.clientID)).toBe(clock)
    await a.destroy()
    await b.destroy()
    await relay.destroy()
  })
})

describe('Replica lifecycle', () => {
  it('destroy() rejects a pending whenSaved with CONVERGE_REPLICA_DESTROYED', async () => {
    const net = new MemoryNetwork()
    const client = new Replica()
    client.connect(net.connector('nowhere', 'c'), { backoff: { initialDelay: 60_000 } })
    const doc = await client.open('d')
    doc.getText('t').insert(0, 'never saved')
    const saved = client.whenSaved('d')
    await client.destroy()
    const outcome = (p: Promise<void>) =>
      Promise.race([
        p.then(
          () => 'resolved',
          (err) => err.code,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still pending'), 1000)),
      ])
    expect(await outcome(saved)).toBe('CONVERGE_REPLICA_DESTROYED')
  })

  it('awareness() of a valid document that is not open throws CONVERGE_NOT_OPEN; of an invalid name, CONVERGE_INVALID_DOC_NAME', async () => {
    const replica = new Replica()
    expect(() => replica.awareness('not-open')).toThrow(expect.objectContaining({ code: 'CONVERGE_NOT_OPEN' }))
    expect(() => replica.awareness('')).toThrow(expect.objectContaining({ code: 'CONVERGE_INVALID_DOC_NAME' }))
    await replica.open('open')
    expect(replica.awareness('open').clientID).toBeTypeOf('number')
    await replica.close('open')
    expect(() => replica.awareness('open')).toThrow(expect.objectContaining({ code: 'CONVERGE_NOT_OPEN' }))
    await replica.destroy()
  })
})
