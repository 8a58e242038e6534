import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { relayWithClients } from '../../../test/helpers/memory-relay.js'
import { CloseCode } from './close-codes.js'
import { MemoryStore } from './memory-store.js'
import type { ReplicaObserver } from './replica-observer.js'

const WAIT = { timeout: 5_000, interval: 5 }

/** A relay whose store writes only when the test calls `store.flush()`, and two clients on it. */
const setup = async () => {
  const store = new MemoryStore({ autoFlush: false })
  const seen = { storeErrors: 0, closes: [] as Array<[string, number]> }
  const observer: ReplicaObserver = {
    storeError: () => {
      seen.storeErrors++
    },
    peerClosed: (peer, _role, code) => {
      seen.closes.push([peer, code])
    },
  }
  const fixture = await relayWithClients({
    relay: { store, observer },
    aConnect: { backoff: { initialDelay: 10, maxDelay: 50 } },
  })
  return { ...fixture, store, seen }
}

describe('durable before visible, on a relay', () => {
  it('a relay forwards an update to other peers and acknowledges it only after its store append resolved', async () => {
    const { net, store, a, da, db, destroy } = await setup()
    da.getText('t').insert(0, 'x')
    await vi.waitFor(() => expect(store.pendingCount).toBeGreaterThan(0), WAIT)
    // The append is held, and the network has delivered everything the relay sent: a
    // forward would have reached b, and a `saved` covering the edit would have marked it saved.
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(db.getText('t').toString()).toBe('')
    expect(a.status('doc').saved).toBe(false)

    store.flush()
    await vi.waitFor(() => expect(db.getText('t').toString()).toBe('x'), WAIT)
    await a.whenSaved('doc', { timeout: WAIT.timeout })
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await store.load('doc')) as Uint8Array)
    expect(stored.getText('t').toString()).toBe('x')
    await destroy()
  })

  it('a write error closes the sender with 4500 and is counted; the update is never acknowledged until it is durable', async () => {
    const { net, store, seen, a, da, db, destroy } = await setup()
    da.getText('t').insert(0, 'y')
    await vi.waitFor(() => expect(store.pendingCount).toBeGreaterThan(0), WAIT)
    store.failNextFlush(new Error('disk full'))
    store.flush()
    await vi.waitFor(() => expect(seen.closes).toContainEqual(['a', CloseCode.storeFailure]), WAIT)
    expect(seen.storeErrors).toBe(1)
    expect(store.stats.writeErrors).toBe(1)

    // The client reconnects and sends the update again; it stays unsaved and unseen until a write succeeds.
    await vi.waitFor(() => expect(store.pendingCount).toBeGreaterThan(0), WAIT)
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(a.status('doc').saved).toBe(false)
    expect(db.getText('t').toString()).toBe('')

    store.flush()
    await a.whenSaved('doc', { timeout: WAIT.timeout })
    await vi.waitFor(() => expect(db.getText('t').toString()).toBe('y'), WAIT)
    await destroy()
  })
})
