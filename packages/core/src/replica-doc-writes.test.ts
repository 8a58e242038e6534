import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { replicaOnHeldStore } from '../../../test/helpers/memory-relay.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'

const WAIT = { timeout: 5_000, interval: 5 }

/**
 * How a replica's document writes what it gets, found by the flaky tests of
 * test/property/regressions.test.ts (about 1 run in 8, on main and at 1f5382d alike).
 */
describe('document writes', () => {
  // "a local write that fails is written again" timed out: a store refuses appends until
  // the turn after a failure (failed-turn.ts, cleared by setImmediate); the rewrite of the
  // whole state waited on a setTimeout(0), a 1 ms timer, which fires first when the
  // failure came in a check phase and the turn took over 1 ms. The rewrite was refused,
  // reported, and never tried again: the store kept an edit built on the lost one.
  it('a local write that fails in a slow turn is written again once the store takes appends', async () => {
    const { store, replica, errors, doc } = await replicaOnHeldStore('d')
    // Run on in a check phase (a setImmediate callback), as a store's flush does.
    await new Promise<void>((resolve) => setImmediate(resolve))
    store.failNextFlush()
    doc.getText('text').insert(0, 'lost? ')
    store.flush()
    doc.getText('text').insert(6, 'kept')
    // Let the replica see the failures, then make this turn outlast a 1 ms timer.
    for (let i = 0; i < 10; i++) await Promise.resolve()
    const end = performance.now() + 3
    while (performance.now() < end) {
      // busy: a loaded machine
    }
    await expect.poll(() => store.pendingCount, WAIT).toBeGreaterThan(0)
    store.flush()
    await replica.close('d')
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await store.load('d')) as Uint8Array)
    expect(stored.store.pendingStructs).toBeNull()
    expect(stored.getText('text').toString()).toBe('lost? kept')
    expect(errors.length).toBeGreaterThan(0)
    await replica.destroy()
  })

  // "a relay whose write of a mesh update fails gets the update again" hung in destroy():
  // the update B got again was applied after A unloaded the doc (its session ended while
  // the append was pending); B took the ended session's update for a local edit and
  // appended it once more, a write that the test's store never flushed.
  it('an update whose session ended while its append was pending is applied, not written again', async () => {
    const net = new MemoryNetwork()
    const a = new Replica({ role: 'relay', store: new MemoryStore(), peerId: 'A', unloadDelay: 10 })
    net.listen('A', (t) => a.accept(t, { heartbeatInterval: 0 }))
    const bStore = new MemoryStore({ autoFlush: false })
    const b = new Replica({ role: 'relay', store: bStore, peerId: 'B', unloadDelay: 60_000 })
    net.listen('B', (t) => b.accept(t, { heartbeatInterval: 0 }))
    const link = a.connect(net.connector('B', 'A'), { heartbeatInterval: 0 })
    await expect.poll(() => link.status, WAIT).toBe('open')
    const writer = new Y.Doc()
    writer.getText('text').insert(0, 'hello')
    await a.applyUpdate('d', Y.encodeStateAsUpdate(writer))
    await expect.poll(() => bStore.pendingCount, WAIT).toBeGreaterThan(0)
    await expect.poll(() => a.loadedDocs().includes('d'), WAIT).toBe(false)
    await expect.poll(() => [...b.peers].some((p) => p.sharedDocs().some((s) => s.doc === 'd')), WAIT).toBe(false)

    bStore.flush()
    await expect.poll(() => b.loadedDoc('d')?.getText('text').toString(), WAIT).toBe('hello')
    expect(bStore.pendingCount).toBe(0)
    expect(bStore.stats.appended).toBe(1)
    await a.destroy()
    await b.destroy()
  })
})
