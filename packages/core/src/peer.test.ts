import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/bench/lib/wait.js'
import { CloseCode } from './close-codes.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { encodeMuxFrame } from './mux-codec.js'
import { Replica } from './replica.js'
import type { Transport } from './transport.js'

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

  it('a malformed state vector for a document a mesh peer has no session on is refused as malformed (4400), not as an internal error', async () => {
    const net = new MemoryNetwork()
    const a = new Replica({ role: 'relay', peerId: 'A' })
    const b = new Replica({ role: 'relay', peerId: 'B' })
    net.listen('B', (t) => b.accept(t))
    // Hand-driven bytes go straight onto the link's transport.
    let transport: Transport | undefined
    const connector = net.connector('B', 'A')
    const link = a.connect(() => (transport = connector()), { backoff: { initialDelay: 60_000 } })
    await expect.poll(() => link.status).toBe('open')
    transport?.send(encodeMuxFrame({ type: 'sync-step1', doc: 'nobody-here', stateVector: new Uint8Array([5, 255]) }))
    await expect.poll(() => link.lastClose?.code).toBe(4400)
    await a.destroy()
    await b.destroy()
  })
})

describe('Limits close a peer like every other error', () => {
  const flood = async (options: { maxMessagesPerSecond?: number; messageBurst?: number; maxMessageBytes?: number }) => {
    const net = new MemoryNetwork()
    // Error frames the relay sends (a memory link drops frames in flight when it closes).
    const errorFrames: string[] = []
    const relay = new Replica({ role: 'relay', observer: { messageOut: (_p, type) => errorFrames.push(type) } })
    const errors: string[] = []
    net.listen('relay', (t) => relay.accept(t, options).on('error', (err) => errors.push(err.code)))
    const client = new Replica()
    let transport: Transport | undefined
    const connector = net.connector('relay', 'c')
    const peer = client.connect(() => (transport = connector()), { backoff: { initialDelay: 60_000 } })
    await expect.poll(() => peer.status).toBe('open')
    return { relay, client, peer, raw: transport as Transport, errors, errorFrames }
  }

  it('a client flooding far past its pacing (on a transport that cannot pause) gets an error event on the server, an error frame, and close code 4529 (transient)', async () => {
    const { relay, client, peer, raw, errors, errorFrames } = await flood({ maxMessagesPerSecond: 1, messageBurst: 5 })
    for (let i = 0; i < 20; i++) raw.send(encodeMuxFrame({ type: 'ping' }))
    await expect.poll(() => peer.lastClose?.code).toBe(CloseCode.rateLimited)
    expect(errors).toContain('CONVERGE_RATE_LIMITED')
    expect(errorFrames).toContain('error')
    await client.destroy()
    await relay.destroy()
  })

  it('a frame over maxMessageBytes gets an error event on the server, an error frame, and close code 1009', async () => {
    const { relay, client, peer, raw, errors, errorFrames } = await flood({ maxMessageBytes: 1024 })
    raw.send(encodeMuxFrame({ type: 'update', doc: 'big', update: new Uint8Array(4096) }))
    await expect.poll(() => peer.lastClose?.code).toBe(CloseCode.messageTooBig)
    expect(errors).toContain('CONVERGE_LIMIT_EXCEEDED')
    expect(errorFrames).toContain('error')
    await client.destroy()
    await relay.destroy()
  })
})

describe('Handshake', () => {
  it('a dialer that gets the hello and the frames after it in one go holds them until its handshake settles', async () => {
    const net = new MemoryNetwork({ auto: false })
    const store = new MemoryStore()
    await store.append('d', new Uint8Array([0, 0]))
    const a = new Replica({ role: 'relay', peerId: 'A', store })
    const b = new Replica({ role: 'relay', peerId: 'B' })
    net.listen('A', (t) => a.accept(t))
    const link = b.connect(net.connector('A', 'B'), { backoff: { initialDelay: 60_000 } })
    const turn = () => new Promise((resolve) => setTimeout(resolve, 1))
    // B's hello reaches A; A answers with its hello and, once its inventory is built, its summary.
    await waitFor(() => net.inFlight > 0, { what: "B's hello", timeout: 2000, interval: 1 })
    net.step()
    await waitFor(() => net.inFlight >= 2, { what: "A's hello and summary", timeout: 2000, interval: 1 })
    await turn()
    // Both reach B back to back, with no turn of the event loop in between.
    while (net.step()) {}
    await turn()
    expect(link.lastClose).toBeUndefined()
    await waitFor(
      () => {
        net.step()
        return b.loadedDocs().includes('d') || link.status === 'closed'
      },
      { what: 'the mesh to sync d', timeout: 5000, interval: 1 },
    )
    expect(link.status).toBe('open')
    await a.destroy()
    await b.destroy()
  })
})
