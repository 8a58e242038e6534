import { CloseCode } from '@converge/core'
import { LevelStore } from '@converge/level'
import { signToken } from '@converge/relay'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ADMIN_TOKEN, adminArgs, relayDoc } from '../helpers/admin.js'
import { deepMapUpdate, deleteOf, selfReferencingUpdate } from '../helpers/poison.js'
import { RawPeer } from '../helpers/raw-peer.js'
import { RelayProcess, tempDir } from '../helpers/relay-process.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const SECRET = 'a-test-secret-of-at-least-32-bytes-long'

const adminJson = async (relay: RelayProcess, doc: string) => {
  const res = await fetch(`${relay.httpUrl}/api/docs/${encodeURIComponent(doc)}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  return { status: res.status, body: (await res.json()) as { content?: Record<string, unknown> } }
}

const stockClient = (url: string, room: string, token?: string) =>
  stockProvider(cleanup, url, room, { params: token === undefined ? {} : { token } })

const hello = () => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, 'hello')
  return Y.encodeStateAsUpdate(doc)
}

describe('one write token cannot poison a document', () => {
  it('a 5,000-deep nested map is refused (4513) before it is stored, on both framings, and the document keeps serving clients and the admin JSON', async () => {
    const relay = await RelayProcess.start({ extraArgs: adminArgs })
    cleanup.push(() => relay.dispose())
    const deep = deepMapUpdate(5_000)

    const mux = await RawPeer.mux(relay.url)
    mux.send({ type: 'update', doc: 'poison', update: deep.update })
    expect((await mux.whenClosed()).code).toBe(CloseCode.limitExceeded)
    expect(mux.received.some((m) => m.type === 'error' && /nested deeper/.test(m.message))).toBe(true)

    const yws = await RawPeer.yws(relay.url, 'poison')
    yws.send({ type: 'update', doc: 'poison', update: deep.update })
    expect((await yws.whenClosed()).code).toBe(CloseCode.limitExceeded)
    // The 9-byte delete of its root now deletes nothing stored.
    const del = await RawPeer.yws(relay.url, 'poison')
    del.send({ type: 'update', doc: 'poison', update: deleteOf(deep.client, deep.clock) })

    const writer = stockClient(relay.url, 'poison')
    writer.doc.getText('text').insert(0, 'still fine')
    const reader = stockClient(relay.url, 'poison')
    await waitFor(() => reader.doc.getText('text').toString() === 'still fine', { what: 'a later client to sync' })
    // (The two stock clients share a BroadcastChannel in this process: wait for the relay itself.)
    await waitFor(async () => (await relayDoc(relay, 'poison')).getText('text').toString() === 'still fine', {
      what: 'the relay to store the edit',
    })
    const json = await adminJson(relay, 'poison')
    expect(json.status).toBe(200)
    expect(json.body.content?.text).toBe('still fine')
    expect((await relayDoc(relay, 'poison')).store.clients.has(deep.client)).toBe(false)
    del.close()
  })

  it('a malformed struct over a mesh link is refused (4400) and never stored: mesh input is validated like client input', async () => {
    const relay = await RelayProcess.start({ extraArgs: [...adminArgs, '--auth-secret', SECRET] })
    cleanup.push(() => relay.dispose())
    const token = await signToken(SECRET, { docs: ['**'], mode: 'write', relay: true }, '1h')
    const mesh = await RawPeer.mux(relay.url, { token, role: 'relay' })
    mesh.send({ type: 'subscribe', doc: 'meshed' })
    mesh.send({ type: 'sync-step1', doc: 'meshed', stateVector: new Uint8Array([0]) })
    await mesh.until((m) => m.type === 'sync-step2', 'the relay step 2')
    mesh.send({ type: 'update', doc: 'meshed', update: selfReferencingUpdate() })
    expect((await mesh.whenClosed()).code).toBe(CloseCode.malformed)
    // Nothing stored under the name: the admin API knows no such document.
    const res = await fetch(`${relay.httpUrl}/api/docs/meshed/update`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    await res.arrayBuffer()
    expect(res.status).toBe(404)
    expect(relay.output).not.toMatch(/does not apply|loading meshed/)
  })

  it('a document already stored with poison (a 5,000-deep map, then a delete of its root) is repaired on load: clients and the admin JSON get everything else', async () => {
    const data = await tempDir('poisoned')
    const store = new LevelStore(data)
    await store.open()
    const deep = deepMapUpdate(5_000)
    await store.append('old', hello())
    await store.append('old', deep.update)
    await store.append('old', deleteOf(deep.client, deep.clock))
    await store.close()

    const relay = await RelayProcess.start({ data, extraArgs: adminArgs })
    cleanup.push(() => relay.dispose())
    const json = await adminJson(relay, 'old')
    expect(json.status).toBe(200)
    expect(json.body.content?.text).toBe('hello')
    const client = stockClient(relay.url, 'old')
    await waitFor(() => client.doc.getText('text').toString() === 'hello', { what: 'a client to get the rest' })
    expect(() => client.doc.getMap('root').toJSON()).not.toThrow()
    // Set aside, not deleted: the quarantined bytes stay in the data directory.
    await relay.stop()
    const reopened = new LevelStore(data)
    await reopened.open()
    const kinds: string[] = await reopened.db.keys({ keyEncoding: 'utf8' }).all()
    await reopened.close()
    expect(kinds.filter((k) => k.includes('old')).length).toBeGreaterThan(0)
  })
})
