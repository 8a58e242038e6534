import { MemoryNetwork, Replica } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import { type NetworkStatus, OnlineTransport } from './online-transport.js'

/** A stand-in for the browser's navigator.onLine and its online/offline events. */
class FakeNetwork extends EventTarget implements NetworkStatus {
  onLine: boolean
  constructor(onLine: boolean) {
    super()
    this.onLine = onLine
  }
  set(onLine: boolean): void {
    this.onLine = onLine
    this.dispatchEvent(new Event(onLine ? 'online' : 'offline'))
  }
}

const cleanup: Replica[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((r) => r.destroy()))
})

const setup = (onLine: boolean, backoff: { initialDelay: number; maxDelay: number }) => {
  const net = new MemoryNetwork()
  const relay = new Replica({ role: 'relay', peerId: 'relay' })
  let dials = 0
  let transports = 0
  net.listen('relay', (t) => relay.accept(t))
  const network = new FakeNetwork(onLine)
  const dial = net.connector('relay', 'client')
  const client = new Replica({ peerId: 'client' })
  const peer = client.connect(
    () => {
      transports++
      return new OnlineTransport(() => {
        dials++
        return dial()
      }, network)
    },
    { backoff },
  )
  cleanup.push(client, relay)
  return { relay, client, peer, network, dials: () => dials, transports: () => transports }
}

describe('OnlineTransport', () => {
  it('does not dial while the browser is offline, and dials at once when it comes online', async () => {
    // A long backoff: the dial after 'online' must not wait for it.
    const { relay, client, peer, network, dials } = setup(false, { initialDelay: 60_000, maxDelay: 60_000 })
    const doc = await client.open('notes')
    doc.getText('t').insert(0, 'written offline')
    expect(peer.status).toBe('connecting')
    expect(dials()).toBe(0)
    network.set(true)
    await client.whenSaved('notes', { timeout: 5_000 })
    expect(dials()).toBe(1)
    expect((await relay.open('notes')).getText('t').toString()).toBe('written offline')
  })

  it('closes an open connection the moment the browser goes offline, and resumes when online', async () => {
    const { relay, client, peer, network, dials, transports } = setup(true, { initialDelay: 10, maxDelay: 10 })
    const doc = await client.open('notes')
    await client.whenSynced('notes', { timeout: 5_000 })
    network.set(false)
    expect(peer.status).not.toBe('open')
    expect(client.status('notes').connection).not.toBe('online')
    doc.getText('t').insert(0, 'while offline')
    expect(client.status('notes').unsaved).toBeGreaterThan(0)
    // The reconnect that follows waits for the network instead of dialing.
    await expect.poll(transports).toBe(2)
    expect(dials()).toBe(1)
    network.set(true)
    await client.whenSaved('notes', { timeout: 5_000 })
    expect((await relay.open('notes')).getText('t').toString()).toBe('while offline')
  })
})
