import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { waitFor } from '../../../test/bench/lib/wait.js'
import { untilQuiet } from '../../../test/helpers/quiescence.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'

const waitUntil = (check: () => boolean, what: string, timeout = 3000) => waitFor(check, { what, timeout, interval: 5 })

/**
 * The most frames a loop-free mesh needs: each edit transaction is forwarded at most once
 * by each replica to each of its sessions and acknowledged at most once per hop (so at
 * most 2 frames per direction of each link), and setting up one document on one link
 * (subscribe, step 1, step 2, acks, presence, the inventory rounds) takes a bounded number.
 */
const SETUP_FRAMES_PER_LINK = 16
const frameBound = (links: number, edits: number) => links * SETUP_FRAMES_PER_LINK + edits * links * 2 * 2

const relays = (net: MemoryNetwork, names: string[]) =>
  Object.fromEntries(
    names.map((name) => {
      const store = new MemoryStore()
      const relay = new Replica({ role: 'relay', store, peerId: name, unloadDelay: 50 })
      net.listen(name, (t) => relay.accept(t))
      return [name, { relay, store }]
    }),
  )

const textOf = async (store: MemoryStore, doc: string) => {
  const d = new Y.Doc()
  const u = await store.load(doc)
  if (u) Y.applyUpdate(d, u)
  return d.getText('t').toString()
}

describe('relay mesh over an in-memory network', () => {
  it('relays in a line pass a client edit end to end, and a relay that was away catches up with no client asking', async () => {
    const net = new MemoryNetwork()
    const r = relays(net, ['A', 'B', 'C'])
    r.A?.relay.connect(net.connector('B', 'A'))
    r.B?.relay.connect(net.connector('C', 'B'))
    const client = new Replica()
    client.connect(net.connector('A', 'client'))
    const doc = await client.open('notes')
    doc.getText('t').insert(0, 'hello mesh')
    await client.whenSaved('notes', { timeout: 2000 })
    await waitUntil(() => r.C?.relay.loadedDoc('notes')?.getText('t').toString() === 'hello mesh', 'C to get the edit')

    // C is cut off while A takes more edits on a doc nobody opens at C.
    net.partition(['A', 'B', 'client'], ['C'])
    for (let i = 0; i < 100; i++) doc.getText('t').insert(0, 'x')
    await client.whenSaved('notes', { timeout: 2000 })
    net.heal()
    const c = r.C as { relay: Replica; store: MemoryStore }
    await waitUntil(
      () => c.store.stats.appended > 1 && c.relay.loadedDoc('notes')?.getText('t').length === 110,
      'C to catch up',
      8000,
    )
    expect(await textOf(c.store, 'notes')).toBe(`${'x'.repeat(100)}hello mesh`)
    await client.destroy()
    for (const x of Object.values(r)) await x.relay.destroy()
  })

  it('presence set before a mesh link opens crosses it when it does', async () => {
    const net = new MemoryNetwork()
    const r = relays(net, ['A', 'B'])
    const alice = new Replica()
    alice.connect(net.connector('A', 'alice'))
    await alice.open('room')
    alice.awareness('room').setLocalStateField('user', { name: 'alice' })
    const bob = new Replica()
    bob.connect(net.connector('B', 'bob'))
    await bob.open('room')
    await waitUntil(() => r.A?.relay.loadedDoc('room') !== undefined, 'A to load the room')
    // Only now do the relays peer; the room has no stored content, only presence.
    r.A?.relay.connect(net.connector('B', 'A'))
    const names = () => [...bob.awareness('room').getStates().values()].map((s) => s.user?.name)
    await waitUntil(() => names().includes('alice'), 'alice to appear for bob')
    await alice.destroy()
    await bob.destroy()
    for (const x of Object.values(r)) await x.relay.destroy()
  })

  it('a ring of four relays converges and falls quiet', async () => {
    const net = new MemoryNetwork()
    const names = ['A', 'B', 'C', 'D']
    const r = relays(net, names)
    names.forEach((n, i) => {
      r[n]?.relay.connect(net.connector(names[(i + 1) % 4] as string, n))
    })
    const clients = await Promise.all(
      names.map(async (n) => {
        const c = new Replica()
        c.connect(net.connector(n, `client-${n}`))
        return { c, doc: await c.open('ring') }
      }),
    )
    clients.forEach(({ doc }, i) => {
      doc.getText('t').insert(0, `${i}`)
    })
    await waitUntil(() => clients.every(({ doc }) => doc.getText('t').length === 4), 'every client to see every edit')
    const frames = await untilQuiet(net)
    // 4 mesh links and 4 client links; 4 edits.
    expect(frames).toBeLessThanOrEqual(frameBound(8, 4))
    for (const { c } of clients) await c.destroy()
    for (const x of Object.values(r)) await x.relay.destroy()
  })

  const topologies: Record<string, Array<[string, string]>> = {
    line: [
      ['A', 'B'],
      ['B', 'C'],
      ['C', 'D'],
      ['D', 'E'],
    ],
    star: [
      ['B', 'A'],
      ['C', 'A'],
      ['D', 'A'],
      ['E', 'A'],
    ],
    ring: [
      ['A', 'B'],
      ['B', 'C'],
      ['C', 'D'],
      ['D', 'E'],
      ['E', 'A'],
    ],
    'full mesh': ['A', 'B', 'C', 'D', 'E'].flatMap((x, i, all) =>
      all.slice(i + 1).map((y) => [x, y] as [string, string]),
    ),
  }

  for (const [shape, links] of Object.entries(topologies)) {
    it(`a ${shape} of five relays converges with edits on every relay, then falls quiet`, async () => {
      const net = new MemoryNetwork()
      const names = ['A', 'B', 'C', 'D', 'E']
      const r = relays(net, names)
      for (const [from, to] of links) r[from]?.relay.connect(net.connector(to, from))
      const clients = await Promise.all(
        names.map(async (n) => {
          const c = new Replica()
          c.connect(net.connector(n, `client-${n}`))
          return { c, doc: await c.open('shape') }
        }),
      )
      for (const [i, { doc }] of clients.entries()) {
        for (let k = 0; k < 5; k++) {
          doc.getText('t').insert(0, `${names[i]}${k}`)
          if (k === 3) doc.getText('t').delete(0, 1)
        }
      }
      await waitUntil(() => {
        const texts = clients.map(({ doc }) => doc.getText('t').toString())
        return texts.every((t) => t === texts[0]) && (texts[0]?.length ?? 0) === 5 * 9
      }, 'every client to converge')
      const sv = Y.encodeStateVector(clients[0]?.doc as Y.Doc)
      for (const { doc } of clients) expect(Y.encodeStateVector(doc)).toEqual(sv)
      const frames = await untilQuiet(net)
      // Loop-free: within what forwarding each edit once per hop needs (a client link per
      // relay; 6 edit transactions per client: 5 inserts and a delete).
      expect(frames).toBeLessThanOrEqual(frameBound(links.length + names.length, names.length * 6))
      for (const { c } of clients) await c.destroy()
      for (const x of Object.values(r)) await x.relay.destroy()
    })
  }
})

describe('anti-entropy across reconnects', () => {
  it('a mesh link cut while anti-entropy syncs reports inventory-synced on the next connection', async () => {
    const net = new MemoryNetwork()
    const storeA = new MemoryStore()
    const docs = 40
    for (let i = 0; i < docs; i++) {
      const d = new Y.Doc()
      d.getText('t').insert(0, `doc ${i}`)
      await storeA.append(`d${i}`, Y.encodeStateAsUpdate(d))
    }
    const a = new Replica({ role: 'relay', store: storeA, peerId: 'A' })
    net.listen('A', (t) => a.accept(t))
    // Cut B's link right after its anti-entropy opened its first sessions (their subscribes go out).
    let cut = false
    const b = new Replica({
      role: 'relay',
      peerId: 'B',
      observer: {
        messageOut: (_peer, type) => {
          if (type !== 'subscribe' || cut) return
          cut = true
          queueMicrotask(() => net.cutAll('B'))
        },
      },
    })
    const link = b.connect(net.connector('A', 'B'), { backoff: { initialDelay: 5, maxDelay: 5 } })
    const synced: number[] = []
    link.on('inventory-synced', (n) => synced.push(n))
    await waitUntil(() => cut && link.lastClose !== undefined, 'the cut')
    await waitUntil(() => synced.length > 0, 'inventory-synced on the next connection', 5000)
    expect(await b.list()).toHaveLength(docs)
    await a.destroy()
    await b.destroy()
  })
})
