import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import { untilQuiet } from '../../../test/helpers/quiescence.js'
import { seedFor } from '../../../test/helpers/seed.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'
import { routerOf } from './replica-internals.js'

const faultsOf = (replicas: Replica[]): string[] =>
  replicas.flatMap((r) => (routerOf.get(r)?.sessionFaults() ?? ['no router']).map((f) => `${r.peerId}: ${f}`))

describe('the session registry', () => {
  it('after random opens, closes, edits and link drops, each document sees exactly the sessions the router registered for it, and no session outlives its link', async () => {
    const seed = seedFor('session registry', import.meta.url)
    const random = seededRandom(seed)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
    const net = new MemoryNetwork({ random })
    const relays = ['A', 'B'].map((name) => {
      const relay = new Replica({ role: 'relay', store: new MemoryStore(), peerId: name, unloadDelay: 5 })
      net.listen(name, (t) => relay.accept(t))
      return relay
    })
    relays[0]?.connect(net.connector('B', 'A'))
    const clients = ['c1', 'c2', 'c3'].map((name, i) => {
      const client = new Replica({ store: new MemoryStore(), peerId: name, unloadDelay: 5 })
      client.connect(net.connector(i % 2 === 0 ? 'A' : 'B', name))
      return client
    })
    const all = [...relays, ...clients]
    const docs = ['d0', 'd1', 'd2']
    const opened = new Map<Replica, Map<string, number>>(clients.map((c) => [c, new Map()]))
    const ops: string[] = []
    try {
      for (let step = 0; step < 60; step++) {
        const client = pick(clients)
        const doc = pick(docs)
        const open = opened.get(client) as Map<string, number>
        const roll = random()
        if (roll < 0.35) {
          ops.push(`${client.peerId} opens ${doc}`)
          const ydoc = await client.open(doc)
          open.set(doc, (open.get(doc) ?? 0) + 1)
          ydoc.getText('t').insert(0, `${step}`)
        } else if (roll < 0.65) {
          if ((open.get(doc) ?? 0) === 0) continue
          ops.push(`${client.peerId} closes ${doc}`)
          open.set(doc, (open.get(doc) ?? 0) - 1)
          await client.close(doc)
        } else if (roll < 0.85) {
          const link = pick(net.openLinks())
          if (link === undefined) continue
          ops.push(`cut ${link.from}-${link.to}`)
          link.cut()
        } else {
          ops.push('wait')
        }
        await untilQuiet(net)
        expect(faultsOf(all), `seed ${seed}, after: ${ops.join('; ')}`).toEqual([])
      }
    } finally {
      for (const r of all) r.destroy()
    }
    expect(ops.length).toBeGreaterThan(20)
  })
})
