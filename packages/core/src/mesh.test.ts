import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'

const waitUntil = async (check: () => boolean, what: string, timeout = 3000) => {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

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
    const delivered = net.delivered
    await new Promise((r) => setTimeout(r, 200))
    const afterQuiet = net.delivered
    await new Promise((r) => setTimeout(r, 200))
    expect(net.delivered - afterQuiet).toBe(0)
    expect(afterQuiet).toBeGreaterThanOrEqual(delivered)
    for (const { c } of clients) await c.destroy()
    for (const x of Object.values(r)) await x.relay.destroy()
  })
})
