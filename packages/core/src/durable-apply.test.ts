import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { relayWithClients } from '../../../test/helpers/memory-relay.js'
import { DurableApply } from './durable-apply.js'
import { MemoryStore } from './memory-store.js'

const WAIT = { timeout: 5_000, interval: 5 }

/** `n` single-character edits of one client, each its own update. */
const edits = (n: number): Uint8Array[] => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, String.fromCharCode(97 + (i % 26)))
  return updates
}

/** A DurableApply on a fresh doc that records each run it applies. */
const applier = (maxRunBytes: number) => {
  const doc = new Y.Doc()
  const runs: Array<{ origin: unknown; count: number }> = []
  const events: unknown[] = []
  doc.on('update', (_u: Uint8Array, origin: unknown) => events.push(origin))
  const apply = new DurableApply((updates, origin) => {
    runs.push({ origin, count: updates.length })
    const errors: unknown[] = []
    Y.transact(
      doc,
      () =>
        updates.forEach((u, k) => {
          try {
            Y.applyUpdate(doc, u, origin)
          } catch (err) {
            errors[k] = err
          }
        }),
      origin,
      false,
    )
    return errors
  }, maxRunBytes)
  return { doc, runs, events, apply }
}

describe('applying durable updates in runs', () => {
  it('updates made durable in one turn from one origin apply as one transaction and the document emits one update', async () => {
    const { doc, runs, events, apply } = applier(1024 * 1024)
    const updates = edits(50)
    await Promise.all(updates.map((u) => apply.apply(u, 'a')))
    expect(runs).toEqual([{ origin: 'a', count: 50 }])
    expect(events).toEqual(['a'])
    expect(doc.getText('t').toString()).toHaveLength(50)
  })

  it('a run ends where the origin changes or the run would pass its byte limit, and the order is kept', async () => {
    const updates = edits(12)
    const byOrigin = applier(1024 * 1024)
    await Promise.all(updates.map((u, i) => byOrigin.apply.apply(u, i < 4 || i >= 8 ? 'a' : 'b')))
    expect(byOrigin.runs).toEqual([
      { origin: 'a', count: 4 },
      { origin: 'b', count: 4 },
      { origin: 'a', count: 4 },
    ])
    const reference = new Y.Doc()
    for (const u of updates) Y.applyUpdate(reference, u)
    expect(byOrigin.doc.getText('t').toString()).toBe(reference.getText('t').toString())

    const bySize = applier((updates[0] as Uint8Array).length * 3)
    await Promise.all(updates.map((u) => bySize.apply.apply(u, 'a')))
    expect(bySize.runs.every((r) => r.count <= 3)).toBe(true)
    expect(bySize.runs.reduce((n, r) => n + r.count, 0)).toBe(12)
    const zero = applier(0)
    await Promise.all(updates.map((u) => zero.apply.apply(u, 'a')))
    expect(zero.runs).toHaveLength(12)
  })

  it('an update that fails to apply rejects alone; the others of its run apply', async () => {
    const { doc, apply } = applier(1024 * 1024)
    const updates = edits(3)
    const results = await Promise.allSettled([
      apply.apply(updates[0] as Uint8Array, 'a'),
      apply.apply(new Uint8Array([0xff, 0xff, 0xff]), 'a'),
      apply.apply(updates[1] as Uint8Array, 'a'),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(doc.getText('t').toString()).toHaveLength(2)
  })

  it('a relay forwards a burst that one store write made durable as one merged update, after the write', async () => {
    const store = new MemoryStore({ autoFlush: false })
    const { net, a, da, db, destroy } = await relayWithClients({ relay: { store } })
    let received = 0
    db.on('update', () => received++)

    for (let i = 0; i < 40; i++) da.getText('t').insert(i, 'x')
    await vi.waitFor(() => expect(store.pendingCount).toBe(40), WAIT)
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(received).toBe(0)
    store.flush()
    await vi.waitFor(() => expect(db.getText('t').toString()).toBe('x'.repeat(40)), WAIT)
    expect(received).toBe(1)
    await a.whenSaved('doc', { timeout: WAIT.timeout })
    await destroy()
  })
})
