import { describe, expect, it } from 'vitest'
import { CloseCode } from './close-codes.js'
import { ConnectionFlow, DEFAULT_FLOW_OPTIONS, type FlowOptions } from './flow-control.js'

const deferred = () => {
  let resolve = () => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

const connection = (host: object, options: FlowOptions, limited = true) => {
  const events: string[] = []
  const flow = new ConnectionFlow(
    host,
    { ...DEFAULT_FLOW_OPTIONS, ...options },
    {
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
      close: (code) => events.push(`close ${code}`),
      limited: () => limited,
    },
    true,
  )
  return { flow, events }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('ConnectionFlow', () => {
  it('pauses a connection past its message budget and resumes it once half of it drained, without closing it', async () => {
    const { flow, events } = connection({}, { maxInFlightMessages: 4 })
    const work = Array.from({ length: 6 }, deferred)
    for (const w of work) flow.track('doc', 10, w.promise)
    expect(events).toEqual(['pause'])
    for (const w of work.slice(0, 3)) w.resolve()
    await settle()
    // 3 in flight: above half the budget (2), still paused.
    expect(events).toEqual(['pause'])
    work[3]?.resolve()
    await settle()
    expect(events).toEqual(['pause', 'resume'])
    for (const w of work) w.resolve()
    await settle()
    expect(flow.messages).toBe(0)
    expect(flow.bytes).toBe(0)
  })

  it('reports each pause and its length, and a pause the connection closed during ends too', async () => {
    const events: string[] = []
    const flow = new ConnectionFlow(
      {},
      { ...DEFAULT_FLOW_OPTIONS, maxInFlightMessages: 2 },
      {
        pause: () => undefined,
        resume: () => undefined,
        close: () => undefined,
        limited: () => true,
        paused: () => events.push('paused'),
        resumed: (ms) => events.push(ms >= 0 ? 'resumed' : 'negative'),
      },
      true,
    )
    const first = Array.from({ length: 3 }, deferred)
    for (const w of first) flow.track('doc', 10, w.promise)
    expect(events).toEqual(['paused'])
    for (const w of first) w.resolve()
    await settle()
    expect(events).toEqual(['paused', 'resumed'])
    expect(flow.pauseStats.pausedMs).toBeGreaterThanOrEqual(0)
    const second = Array.from({ length: 3 }, deferred)
    for (const w of second) flow.track('doc', 10, w.promise)
    expect(flow.pauseStats.pauses).toBe(2)
    // Closed while paused: the pause ends with it (a paused-connections gauge goes back down).
    flow.dispose()
    flow.dispose()
    expect(events).toEqual(['paused', 'resumed', 'paused', 'resumed'])
    for (const w of second) w.resolve()
    await settle()
    expect(events.length).toBe(4)
  })

  it('pauses past its byte budget', () => {
    const { flow, events } = connection({}, { maxInFlightBytes: 100 })
    flow.track('doc', 60, deferred().promise)
    expect(events).toEqual([])
    flow.track('doc', 60, deferred().promise)
    expect(events).toEqual(['pause'])
  })

  it('a document past its budget pauses every connection that sends to it, and they resume when it drains', async () => {
    const host = {}
    const a = connection(host, { maxDocInFlightMessages: 3 })
    const b = connection(host, { maxDocInFlightMessages: 3 })
    const work = Array.from({ length: 4 }, deferred)
    a.flow.track('shared', 1, (work[0] as ReturnType<typeof deferred>).promise)
    a.flow.track('shared', 1, (work[1] as ReturnType<typeof deferred>).promise)
    b.flow.track('shared', 1, (work[2] as ReturnType<typeof deferred>).promise)
    b.flow.track('shared', 1, (work[3] as ReturnType<typeof deferred>).promise)
    expect(b.events).toEqual(['pause'])
    // A connection sending to another document is not held back.
    a.flow.track('other', 1, deferred().promise)
    expect(a.events).toEqual([])
    a.flow.track('shared', 1, deferred().promise)
    expect(a.events).toEqual(['pause'])
    for (const w of work) w.resolve()
    await settle()
    expect(b.events).toEqual(['pause', 'resume'])
    expect(a.events).toEqual(['pause', 'resume'])
  })

  it('closes with 1013 (try again later) only past the hard ceiling, and only where ceilings apply', () => {
    const limited = connection({}, { maxInFlightMessages: 2, inFlightCeiling: 3 })
    for (let i = 0; i < 6; i++) limited.flow.track('doc', 1, deferred().promise)
    expect(limited.events).toEqual(['pause'])
    limited.flow.track('doc', 1, deferred().promise)
    expect(limited.events).toEqual(['pause', `close ${CloseCode.tryAgainLater}`])
    const mesh = connection({}, { maxInFlightMessages: 2, inFlightCeiling: 3 }, false)
    for (let i = 0; i < 20; i++) mesh.flow.track('doc', 1, deferred().promise)
    expect(mesh.events).toEqual(['pause'])
  })

  it('paces messages past the burst by pausing until the bucket refills; a flood far past it closes with 4529', async () => {
    const { flow, events } = connection({}, { maxMessagesPerSecond: 1000, messageBurst: 5 })
    for (let i = 0; i < 5; i++) expect(flow.received()).toBe(true)
    expect(events).toEqual([])
    expect(flow.received()).toBe(true)
    expect(events).toEqual(['pause'])
    // One message owed at 1000/s: read again within a few ms.
    await expect.poll(() => events, { timeout: 1000, interval: 1 }).toEqual(['pause', 'resume'])
    for (let i = 0; i < 20; i++) flow.received()
    expect(events.at(-1)).toBe(`close ${CloseCode.rateLimited}`)
  })
})
