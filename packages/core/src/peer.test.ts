import { afterEach, describe, expect, it } from 'vitest'
import { MemoryNetwork } from './memory-network.js'
import { Replica } from './replica.js'

const globals = globalThis as { addEventListener?: unknown; removeEventListener?: unknown; dispatchEvent?: unknown }
afterEach(() => {
  delete globals.addEventListener
  delete globals.removeEventListener
  delete globals.dispatchEvent
})

describe('Peer reconnects', () => {
  it('reconnect() dials at once instead of waiting out the backoff', async () => {
    const net = new MemoryNetwork()
    const client = new Replica()
    const peer = client.connect(net.connector('relay', 'c'), { backoff: { initialDelay: 60_000, maxDelay: 60_000 } })
    // Nothing listens yet: the first attempt fails and the next waits a minute.
    await expect.poll(() => peer.lastClose !== undefined).toBe(true)
    const relay = new Replica({ role: 'relay' })
    net.listen('relay', (t) => relay.accept(t))
    peer.reconnect()
    await expect.poll(() => peer.status, { timeout: 2000 }).toBe('open')
    await client.destroy()
    await relay.destroy()
  })

  it("a browser's online event redials a waiting peer", async () => {
    const events = new EventTarget()
    globals.addEventListener = events.addEventListener.bind(events)
    globals.removeEventListener = events.removeEventListener.bind(events)
    const net = new MemoryNetwork()
    const client = new Replica()
    const peer = client.connect(net.connector('relay', 'c'), { backoff: { initialDelay: 60_000, maxDelay: 60_000 } })
    await expect.poll(() => peer.lastClose !== undefined).toBe(true)
    const relay = new Replica({ role: 'relay' })
    net.listen('relay', (t) => relay.accept(t))
    events.dispatchEvent(new Event('online'))
    await expect.poll(() => peer.status, { timeout: 2000 }).toBe('open')
    await client.destroy()
    await relay.destroy()
  })
})
