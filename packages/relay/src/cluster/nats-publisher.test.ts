import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { MemoryClusterLedger } from './cluster-ledger.js'
import { NatsMetrics } from './nats-metrics.js'
import { NatsPublisher, type PublishChannel } from './nats-publisher.js'

/** A channel whose publishes wait until the test settles them. */
class FakeChannel implements PublishChannel {
  connected = true
  readonly published: Array<{ doc: string; update: Uint8Array; ack: () => void; fail: (e: Error) => void }> = []
  readonly stored = new Map<string, Uint8Array>()
  readonly errors: string[] = []

  isConnected(): boolean {
    return this.connected
  }

  publish(doc: string, update: Uint8Array): Promise<void> {
    return new Promise((ack, fail) => this.published.push({ doc, update, ack, fail }))
  }

  async load(doc: string): Promise<Uint8Array | undefined> {
    return this.stored.get(doc)
  }

  reportError(_err: unknown, context: string): void {
    this.errors.push(context)
  }
}

const setup = () => {
  const channel = new FakeChannel()
  const ledger = new MemoryClusterLedger()
  const publisher = new NatsPublisher(channel, ledger, new NatsMetrics(new Registry()), 10)
  return { channel, ledger, publisher }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

const state = (p: Promise<void> | undefined) => {
  let done = p === undefined
  p?.then(() => {
    done = true
  })
  return () => done
}

describe('NatsPublisher: what JetStream acknowledged, per document', () => {
  it('an update is saved (replicated) only once JetStream acknowledged it, and in order', async () => {
    const { channel, ledger, publisher } = setup()
    const u1 = new Uint8Array([1])
    const u2 = new Uint8Array([2])
    await publisher.append('d', u1, async () => undefined)
    await publisher.append('d', u2, async () => undefined)
    expect(await ledger.unpublished()).toEqual(['d'])
    const saved1 = state(publisher.whenPublished('d', u1))
    const saved2 = state(publisher.whenPublished('d', u2))
    expect(channel.published.map((p) => p.update[0])).toEqual([1, 2])
    channel.published[1]?.ack()
    await tick()
    expect([saved1(), saved2()]).toEqual([false, false])
    channel.published[0]?.ack()
    await tick()
    expect([saved1(), saved2()]).toEqual([true, true])
    await tick()
    expect(await ledger.unpublished()).toEqual([])
    expect(publisher.unpublished).toBe(0)
  })

  it('while NATS is away nothing is published or queued; once back the whole state goes out and covers every append', async () => {
    const { channel, ledger, publisher } = setup()
    channel.connected = false
    const updates = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]
    for (const u of updates) await publisher.append('d', u, async () => undefined)
    expect(channel.published).toHaveLength(0)
    expect(await ledger.unpublished()).toEqual(['d'])
    const saved = updates.map((u) => state(publisher.whenPublished('d', u)))
    channel.stored.set('d', new Uint8Array([9, 9]))
    channel.connected = true
    publisher.resume()
    await tick()
    expect(channel.published.map((p) => [...p.update])).toEqual([[9, 9]])
    expect(saved.map((s) => s())).toEqual([false, false, false])
    channel.published[0]?.ack()
    await tick()
    expect(saved.map((s) => s())).toEqual([true, true, true])
    await tick()
    expect(await ledger.unpublished()).toEqual([])
  })

  it('a failed publish republishes the whole state, retried until it is acknowledged', async () => {
    const { channel, publisher } = setup()
    const u = new Uint8Array([1])
    channel.stored.set('d', new Uint8Array([7]))
    await publisher.append('d', u, async () => undefined)
    const saved = state(publisher.whenPublished('d', u))
    channel.published[0]?.fail(new Error('timeout'))
    await tick()
    expect(channel.published.map((p) => [...p.update])).toEqual([[1], [7]])
    channel.published[1]?.fail(new Error('timeout'))
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(channel.published.length).toBe(3)
    expect(saved()).toBe(false)
    channel.published[2]?.ack()
    await tick()
    expect(saved()).toBe(true)
  })

  it('documents left unpublished by a previous run are republished when NATS is reached', async () => {
    const { channel, ledger, publisher } = setup()
    await ledger.markUnpublished('left-over')
    channel.stored.set('left-over', new Uint8Array([5]))
    await publisher.restore()
    expect(publisher.unpublished).toBe(1)
    publisher.resume()
    await tick()
    expect(channel.published.map((p) => p.doc)).toEqual(['left-over'])
    channel.published[0]?.ack()
    await tick()
    await tick()
    expect(publisher.unpublished).toBe(0)
    expect(await ledger.unpublished()).toEqual([])
  })

  it('an append that fails locally is never published, and does not hold up later saves', async () => {
    const { channel, publisher } = setup()
    const bad = new Uint8Array([1])
    const good = new Uint8Array([2])
    await expect(
      publisher.append('d', bad, async () => {
        throw new Error('disk full')
      }),
    ).rejects.toThrow('disk full')
    await publisher.append('d', good, async () => undefined)
    expect(channel.published.map((p) => p.update[0])).toEqual([2])
    const saved = state(publisher.whenPublished('d', good))
    channel.published[0]?.ack()
    await tick()
    expect(saved()).toBe(true)
  })
})
