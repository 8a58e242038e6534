import { afterEach, describe, expect, it, vi } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { MemoryNetwork } from './memory-network.js'
import { Replica } from './replica.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('presence timeout on a relay', () => {
  it('a state its client stops renewing is removed by the relay 30 to 33 s after it was set, on every document, and the removal reaches the other clients', async () => {
    // Only the clock and intervals are fake: the relay's sweep and its Date.now; the network runs
    // on real timers. The clients' y-protocols Awareness reads lib0's clock (the real one,
    // captured when it loaded), so under fake time they never renew, and never time a state
    // out themselves: what removes the state is the relay's sweep alone.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const net = new MemoryNetwork()
    const relay = new Replica({ role: 'relay', peerId: 'relay' })
    const docs = ['d0', 'd1', 'd2']
    // y-websocket framing: links without heartbeats (their timers would run on the fake clock too).
    for (const d of docs) net.listen(`relay/${d}`, (t) => relay.accept(t, { framing: { yWebsocketDoc: d } }))
    const a = new Replica({ peerId: 'a' })
    const b = new Replica({ peerId: 'b' })
    try {
      for (const d of docs) {
        for (const [r, name] of [
          [a, 'a'],
          [b, 'b'],
        ] as const) {
          await r.open(d)
          r.connect(net.connector(`relay/${d}`, name), { framing: { yWebsocketDoc: d } })
        }
      }
      for (const d of docs) {
        await a.whenSynced(d, { timeout: 5_000 })
        await b.whenSynced(d, { timeout: 5_000 })
      }
      for (const d of docs) a.awareness(d).setLocalStateField('user', { name: 'a' })
      const idOf = (d: string) => a.awareness(d).clientID
      const seenByB = () => docs.filter((d) => b.awareness(d).getStates().has(idOf(d)))
      await waitFor(() => seenByB().length === docs.length, { timeout: 5_000, what: "b to see a's presence" })
      expect(docs.every((d) => relay.presence(d).has(idOf(d)))).toBe(true)

      vi.advanceTimersByTime(29_000)
      expect(docs.filter((d) => relay.presence(d).has(idOf(d)))).toEqual(docs)
      expect(seenByB()).toEqual(docs)

      vi.advanceTimersByTime(4_000)
      expect(docs.filter((d) => relay.presence(d).has(idOf(d)))).toEqual([])
      await waitFor(() => seenByB().length === 0, { timeout: 5_000, what: "the relay's timeout to reach b" })
      // a never removed its own state; only the relay timed it out.
      expect(docs.every((d) => a.awareness(d).getLocalState() !== null)).toBe(true)
    } finally {
      await a.destroy()
      await b.destroy()
      await relay.destroy()
    }
  })
})
