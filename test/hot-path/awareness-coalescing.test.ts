/**
 * Presence coalescing (awareness-coalescer.ts): a relay merges a document's presence
 * changes and passes them on at a bounded rate; what a reader ends up seeing is the same
 * state it would see without merging, and joins and leaves go out at once.
 */
import { MemoryNetwork, nextTurn, Replica } from '@converge/core'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { AwarenessCoalescer } from '../../packages/core/src/awareness-coalescer.js'
import { AwarenessGuard } from '../../packages/core/src/awareness-guard.js'
import { encodeAwarenessEntries } from '../../packages/core/src/awareness-ids.js'
import { presenceWindowMs } from '../../packages/core/src/doc-awareness.js'
import { seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'

const DOC = 'doc'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const c of cleanups.splice(0)) await c()
})

describe('AwarenessCoalescer', () => {
  it('changes within the window go out once, as the union of their clients, with a single origin kept', () => {
    vi.useFakeTimers()
    const flushed: Array<{ clients: number[]; origin: unknown }> = []
    const c = new AwarenessCoalescer(50, (clients, origin) => flushed.push({ clients: [...clients].sort(), origin }))
    for (let i = 0; i < 20; i++) c.change({ added: [], updated: [1 + (i % 3)], removed: [] }, 'a')
    expect(flushed).toEqual([])
    vi.advanceTimersByTime(50)
    expect(flushed).toEqual([{ clients: [1, 2, 3], origin: 'a' }])
    c.change({ added: [], updated: [1], removed: [] }, 'a')
    c.change({ added: [], updated: [2], removed: [] }, 'b')
    vi.advanceTimersByTime(50)
    // Mixed origins: nobody is left out.
    expect(flushed[1]).toEqual({ clients: [1, 2], origin: undefined })
  })

  it('a join or a leave goes out at the end of the turn, without waiting for the window, with what was pending', async () => {
    const flushed: number[][] = []
    // A window of an hour: anything that goes out before the test ends did not wait for it.
    const c = new AwarenessCoalescer(3_600_000, (clients) => flushed.push([...clients].sort()))
    cleanups.push(async () => c.dispose())
    c.change({ added: [], updated: [1], removed: [] }, 'a')
    c.change({ added: [2], updated: [], removed: [] }, 'b')
    await nextTurn()
    expect(flushed).toEqual([[1, 2]])
    c.change({ added: [], updated: [], removed: [1] }, 'a')
    await nextTurn()
    expect(flushed).toEqual([[1, 2], [1]])
  })

  it('joins and leaves that arrive in one turn go out as one update', async () => {
    const flushed: Array<{ clients: number[]; origin: unknown }> = []
    const c = new AwarenessCoalescer(3_600_000, (clients, origin) =>
      flushed.push({ clients: [...clients].sort(), origin }),
    )
    cleanups.push(async () => c.dispose())
    for (let i = 1; i <= 50; i++) c.change({ added: [i], updated: [], removed: [] }, `session-${i}`)
    c.change({ added: [], updated: [], removed: [7] }, 'session-7')
    expect(flushed).toEqual([])
    await nextTurn()
    expect(flushed).toEqual([{ clients: Array.from({ length: 50 }, (_, i) => i + 1).sort(), origin: undefined }])
    await nextTurn()
    expect(flushed).toHaveLength(1)
  })

  it('the window stretches with the sessions so that sessions × flushes a second stays within the frame budget, between the base and the cap', () => {
    const w = { baseMs: 50, framesPerSecond: 2_000, maxMs: 200 }
    for (let sessions = 0; sessions <= 1_000; sessions++) {
      const ms = presenceWindowMs(w, sessions)
      expect(ms).toBeGreaterThanOrEqual(50)
      expect(ms).toBeLessThanOrEqual(200)
      if (ms < 200) expect((sessions * 1000) / ms).toBeLessThanOrEqual(2_000)
      if (sessions <= 100) expect(ms).toBe(50)
    }
    expect(presenceWindowMs(w, 200)).toBe(100)
    expect(presenceWindowMs({ ...w, framesPerSecond: 0 }, 1_000)).toBe(50)
    expect(presenceWindowMs({ ...w, baseMs: 0 }, 1_000)).toBe(0)
  })

  it('0 ms sends every change at once', () => {
    const flushed: number[][] = []
    const c = new AwarenessCoalescer(0, (clients) => flushed.push(clients))
    c.change({ added: [], updated: [1], removed: [] }, 'a')
    c.change({ added: [], updated: [1], removed: [] }, 'a')
    expect(flushed).toEqual([[1], [1]])
  })
})

describe('echoes of merged presence', () => {
  it('a late echo of states whose owners left is no claim: the echoing session is not closed, and nothing is applied', () => {
    const guard = new AwarenessGuard()
    const leaver = { awarenessClients: new Set<number>() }
    const echoer = { awarenessClients: new Set<number>() }
    const ids = Array.from({ length: 12 }, (_, i) => 100 + i)
    // What the relay knows: each id's clock; states present until their owner leaves.
    const clocks = new Map(ids.map((id) => [id, 3]))
    const states = new Set(ids)
    const hasState = (id: number) => states.has(id)
    const clockOf = (id: number) => clocks.get(id)
    const merged = encodeAwarenessEntries(ids.map((client) => ({ client, clock: 3, state: '{"cursor":1}' })))
    guard.admit(merged, leaver, hasState, 1, 100, clockOf)
    for (const id of ids) leaver.awarenessClients.add(id)
    // The owner leaves: its states are removed (Yjs bumps each clock).
    guard.releaseAll(leaver)
    for (const id of ids) {
      states.delete(id)
      clocks.set(id, 4)
    }
    // A stock client echoes the merged message it was sent before: 12 ids, past the limit of 8.
    const admitted = guard.admit(merged, echoer, hasState, 1, 8, clockOf)
    expect(admitted.update).toBeUndefined()
    expect(admitted.present).toEqual([])
    // A genuinely newer state still counts: 9 fresh ids from one session are refused.
    const fresh = encodeAwarenessEntries(ids.slice(0, 9).map((client) => ({ client, clock: 5, state: '{}' })))
    expect(() => guard.admit(fresh, echoer, hasState, 1, 8, clockOf)).toThrow(/more than 8/)
  })
})

interface Cursor {
  cursor: number
  name: string
}

/** The states of `ids` as `replica` sees them (absent: null). */
const view = (replica: Replica, ids: number[]) =>
  ids.map((id) => (replica.awareness(DOC).getStates().get(id) as Cursor | undefined) ?? null)

describe('presence through a coalescing relay', () => {
  it('the presence a reader ends up with equals the writers’ final presence, merged or not (seeded)', async () => {
    const seed = seedFor('awareness coalescing', import.meta.url)
    const gen = prng.create(seed)
    const delays = prng.create(seed + 1)
    const net = new MemoryNetwork({ random: () => prng.real53(delays) })
    // Two relays: one merges presence (20 ms), one sends each change at once.
    const merging = new Replica({ role: 'relay', peerId: 'merging', awarenessCoalesceMs: 20 })
    const direct = new Replica({ role: 'relay', peerId: 'direct', awarenessCoalesceMs: 0 })
    // A third stretches its window for its 5 sessions to 100 ms (capped at 60): at most 50 frames a second.
    const stretched = new Replica({
      role: 'relay',
      peerId: 'stretched',
      awarenessCoalesceMs: 20,
      awarenessFramesPerSecond: 50,
      awarenessCoalesceMaxMs: 60,
    })
    for (const [name, relay] of [
      ['merging', merging],
      ['direct', direct],
      ['stretched', stretched],
    ] as const) {
      net.listen(name, (t) => relay.accept(t))
      net.listen(`${name}/y-websocket`, (t) => relay.accept(t, { framing: { yWebsocketDoc: DOC } }))
    }
    const clients: Replica[] = []
    const make = async (relay: string, name: string, yWebsocket: boolean) => {
      const r = new Replica({ peerId: name })
      clients.push(r)
      await r.open(DOC)
      r.connect(
        net.connector(yWebsocket ? `${relay}/y-websocket` : relay, name),
        yWebsocket ? { framing: { yWebsocketDoc: DOC } } : {},
      )
      await r.whenSynced(DOC, { timeout: 10_000 })
      return r
    }
    cleanups.push(async () => {
      for (const c of clients) await c.destroy()
      await merging.destroy()
      await direct.destroy()
      await stretched.destroy()
    })
    const relays = ['merging', 'direct', 'stretched'] as const
    const writers = new Map<string, Replica[]>()
    const readers = new Map<string, Replica[]>()
    for (const relay of relays) {
      writers.set(relay, [await make(relay, `${relay}-w0`, false), await make(relay, `${relay}-w1`, true)])
      writers.get(relay)?.push(await make(relay, `${relay}-w2`, false))
      readers.set(relay, [await make(relay, `${relay}-r0`, true), await make(relay, `${relay}-r1`, false)])
    }

    // The same seeded script of moves, joins and leaves on both relays' writers.
    const steps = 60
    for (let step = 0; step < steps; step++) {
      const w = prng.uint32(gen, 0, 2)
      const action = prng.uint32(gen, 0, 9)
      const cursor = prng.uint32(gen, 0, 1_000)
      for (const relay of relays) {
        const awareness = (writers.get(relay) as Replica[])[w]?.awareness(DOC)
        if (awareness === undefined) continue
        if (action === 0) awareness.setLocalState(null)
        else awareness.setLocalState({ cursor, name: `w${w}` })
      }
      // Some steps land in one merge window, some across windows.
      if (prng.bool(gen)) await new Promise((resolve) => setTimeout(resolve, prng.uint32(gen, 0, 25)))
    }

    for (const relay of relays) {
      const ws = writers.get(relay) as Replica[]
      const ids = ws.map((w) => w.awareness(DOC).clientID)
      const truth = ws.map((w) => (w.awareness(DOC).getLocalState() as Cursor | null) ?? null)
      for (const reader of readers.get(relay) as Replica[]) {
        await waitFor(() => JSON.stringify(view(reader, ids)) === JSON.stringify(truth), {
          timeout: 10_000,
          what: `${reader.peerId} on ${relay} to see the writers' final presence (seed ${seed})`,
        }).catch((err) => {
          throw new Error(`${err.message}: saw ${JSON.stringify(view(reader, ids))}, want ${JSON.stringify(truth)}`)
        })
      }
    }
    // Merged or not, the readers of both relays see the same presence.
    const finalOf = (relay: string) =>
      (readers.get(relay) as Replica[]).map((r) =>
        view(
          r,
          (writers.get(relay) as Replica[]).map((w) => w.awareness(DOC).clientID),
        ),
      )
    expect(finalOf('merging')).toEqual(finalOf('direct'))
    expect(finalOf('stretched')).toEqual(finalOf('direct'))
  })
})
