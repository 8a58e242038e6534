import { describe, expect, it, vi } from 'vitest'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'
import type { ReplicaObserver } from './replica-observer.js'

const WAIT = { timeout: 5_000, interval: 5 }

describe('the forwarded observer hook (a relay’s share of a delivery)', () => {
  it('reports each update once, after it is durable and was sent to every other session, with at least the time it waited for the store', async () => {
    const net = new MemoryNetwork()
    const store = new MemoryStore({ autoFlush: false })
    const updatesOut = new Map<string, number>()
    const forwarded: Array<{ ms: number; updatesOut: Map<string, number>; pending: number }> = []
    const observer: ReplicaObserver = {
      messageOut: (peer, type) => {
        if (type === 'update') updatesOut.set(peer, (updatesOut.get(peer) ?? 0) + 1)
      },
      forwarded: (_doc, ms) => {
        forwarded.push({ ms, updatesOut: new Map(updatesOut), pending: store.pendingCount })
      },
    }
    const relay = new Replica({ role: 'relay', store, peerId: 'relay', observer })
    net.listen('relay', (t) => relay.accept(t))
    const clients = ['a', 'b', 'c'].map((peerId) => {
      const client = new Replica({ peerId })
      client.connect(net.connector('relay', peerId))
      return client
    })
    const docs = await Promise.all(clients.map((c) => c.open('doc')))
    await Promise.all(clients.map((c) => c.whenSynced('doc', { timeout: WAIT.timeout })))
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    forwarded.length = 0
    updatesOut.clear()

    docs[0]?.getText('t').insert(0, 'x')
    await vi.waitFor(() => expect(store.pendingCount).toBeGreaterThan(0), WAIT)
    const queuedAt = performance.now()
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    // Not durable yet: not forwarded, not reported.
    expect(forwarded).toEqual([])
    expect(updatesOut.size).toBe(0)

    store.flush()
    const flushedAt = performance.now()
    await vi.waitFor(() => expect(forwarded.length).toBe(1), WAIT)
    const [report] = forwarded
    expect(report?.pending).toBe(0)
    expect(report?.updatesOut.get('b')).toBe(1)
    expect(report?.updatesOut.get('c')).toBe(1)
    expect(report?.updatesOut.get('a')).toBeUndefined()
    // It arrived before the append was queued and went out after the store resolved it.
    expect(report?.ms).toBeGreaterThanOrEqual(flushedAt - queuedAt)
    await vi.waitFor(() => expect(docs[2]?.getText('t').toString()).toBe('x'), WAIT)
    expect(forwarded.length).toBe(1)
    await Promise.all([...clients, relay].map((r) => r.destroy()))
  })
})
