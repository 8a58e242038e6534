import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Access } from './access.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import type { InventoryMessage, Message } from './messages.js'
import { decodeMuxFrame, encodeMuxFrame, PROTOCOL_VERSION } from './mux-codec.js'
import { Replica } from './replica.js'
import { TOMBSTONES_DOC } from './tombstones.js'

// A relay-role peer whose token grants a/* only: nothing outside a/* may reach it, by any path.
const scopeA: Access = { canRead: (doc) => doc.startsWith('a/'), canWrite: (doc) => doc.startsWith('a/') }

const updateWith = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** A relay holding a/1 and b/1, and a hand-driven relay-role peer connected to it with a/* access. */
const setup = async () => {
  const net = new MemoryNetwork()
  const store = new MemoryStore()
  await store.append('a/1', updateWith('in scope'))
  await store.append('b/1', updateWith('out of scope'))
  const relay = new Replica({ role: 'relay', store, peerId: 'R' })
  net.listen('R', (t) => relay.accept(t, { authorize: () => scopeA }))
  const received: Message[] = []
  const transport = net.connector('R', 'M')()
  transport.attach({
    onOpen: () => send({ type: 'hello', version: PROTOCOL_VERSION, peerId: 'M', role: 'relay', token: '' }),
    onMessage: (data) => received.push(decodeMuxFrame(data)),
    onClose: () => undefined,
  })
  const send = (m: Message) => transport.send(encodeMuxFrame(m))
  await expect.poll(() => received.some((m) => m.type === 'hello')).toBe(true)
  /** Everything the relay sent before it answers a ping now has arrived (frames keep their order). */
  const quiesce = async () => {
    const pongs = received.filter((m) => m.type === 'pong').length
    send({ type: 'ping' })
    await expect.poll(() => received.filter((m) => m.type === 'pong').length).toBe(pongs + 1)
  }
  const docsNamed = () =>
    new Set(received.flatMap((m) => ('doc' in m && m.doc !== '' && m.doc !== TOMBSTONES_DOC ? [m.doc] : [])))
  return { relay, send, received, quiesce, docsNamed }
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup) await c()
  cleanup = []
})

describe('a relay token scoped to a/* bounds what a relay-role peer reads', () => {
  it('the inventory offered lists no document outside the scope', async () => {
    const { relay, send, received, quiesce } = await setup()
    cleanup.push(() => relay.destroy())
    // A summary that differs from everything: the relay answers with all it would offer.
    send({ type: 'inventory-summary', bucketBits: 0, digests: new Uint8Array(8) })
    await expect.poll(() => received.some((m) => m.type === 'inventory' && m.final)).toBe(true)
    await quiesce()
    const offered = received.flatMap((m) => (m.type === 'inventory' ? m.entries.map((e) => e.doc) : []))
    // The tombstones go to every mesh peer whatever its scope (tombstone-scope.test.ts).
    expect(offered.filter((d) => d !== TOMBSTONES_DOC)).toEqual(['a/1'])
  })

  it('anti-entropy syncs no document outside the scope, even one the peer claims to hold', async () => {
    const { relay, send, quiesce, docsNamed } = await setup()
    cleanup.push(() => relay.destroy())
    const inventory: InventoryMessage = {
      type: 'inventory',
      bucketBits: 0,
      buckets: [0],
      entries: [
        { doc: 'a/2', digest: new Uint8Array(8).fill(1) },
        { doc: 'b/1', digest: new Uint8Array(8).fill(1) },
      ],
      final: true,
    }
    send({ type: 'inventory-summary', bucketBits: 0, digests: new Uint8Array(8) })
    send(inventory)
    await expect.poll(() => docsNamed().has('a/2')).toBe(true)
    await quiesce()
    expect(docsNamed().has('a/1')).toBe(true)
    expect([...docsNamed()].filter((d) => !d.startsWith('a/'))).toEqual([])
  })

  it('live changes stream to the peer only for documents inside the scope', async () => {
    const { relay, quiesce, docsNamed } = await setup()
    cleanup.push(() => relay.destroy())
    await relay.applyUpdate('b/2', updateWith('new, out of scope'))
    await relay.applyUpdate('a/3', updateWith('new, in scope'))
    await expect.poll(() => docsNamed().has('a/3')).toBe(true)
    await quiesce()
    expect([...docsNamed()].filter((d) => !d.startsWith('a/'))).toEqual([])
  })

  it('a sync step 1 for a document outside the scope is not answered, after an inventory exchange or without one', async () => {
    const { relay, send, received, quiesce } = await setup()
    cleanup.push(() => relay.destroy())
    send({ type: 'inventory-summary', bucketBits: 0, digests: new Uint8Array(8) })
    send({ type: 'inventory', bucketBits: 0, buckets: [0], entries: [], final: true })
    send({ type: 'sync-step1', doc: 'b/1', stateVector: Y.encodeStateVector(new Y.Doc()) })
    send({ type: 'sync-step1', doc: 'a/1', stateVector: Y.encodeStateVector(new Y.Doc()) })
    await expect.poll(() => received.some((m) => m.type === 'sync-step2' && m.doc === 'a/1')).toBe(true)
    await quiesce()
    expect(received.filter((m) => m.type === 'sync-step2' && m.doc === 'b/1')).toEqual([])
  })
})
