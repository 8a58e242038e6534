import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Heartbeat } from './heartbeat.js'

describe('Heartbeat', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  const start = (paused = () => false) => {
    const events: string[] = []
    const heartbeat = new Heartbeat({
      paused,
      ping: () => events.push('ping'),
      timedOut: (timeout) => events.push(`timeout ${timeout}`),
    })
    heartbeat.received()
    heartbeat.start(1_000, () => 3_000)
    return { heartbeat, events }
  }

  it('a silent remote times out after the timeout, pinging meanwhile', () => {
    const { heartbeat, events } = start()
    vi.advanceTimersByTime(3_000)
    expect(events).toEqual(['ping', 'ping', 'ping'])
    vi.advanceTimersByTime(1_000)
    expect(events.at(-1)).toBe('timeout 3000')
    heartbeat.stop()
  })

  it('a remote that keeps sending never times out', () => {
    const { heartbeat, events } = start()
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(900)
      heartbeat.received()
    }
    expect(events.filter((e) => e.startsWith('timeout'))).toEqual([])
    heartbeat.stop()
  })

  it("a beat delayed by this side's busy event loop does not count the delay as the remote's silence", () => {
    const { heartbeat, events } = start()
    // The event loop is blocked for 60 s (a long computation, a starved CPU): the clock
    // moves on, the timer cannot fire, whatever the remote sent waits unread.
    vi.setSystemTime(Date.now() + 60_000)
    vi.advanceTimersByTime(1_000)
    expect(events).toEqual(['ping'])
    // The remote's frames are read in the turns that follow.
    heartbeat.received()
    vi.advanceTimersByTime(2_000)
    expect(events.filter((e) => e.startsWith('timeout'))).toEqual([])
    // A remote that really fell silent still times out, a timeout after the stall.
    vi.advanceTimersByTime(3_000)
    expect(events.at(-1)).toBe('timeout 3000')
    heartbeat.stop()
  })

  it('a side paused by flow control does not count its silence against the remote', () => {
    let paused = true
    const { heartbeat, events } = start(() => paused)
    vi.advanceTimersByTime(10_000)
    expect(events.filter((e) => e.startsWith('timeout'))).toEqual([])
    paused = false
    vi.advanceTimersByTime(5_000)
    expect(events.at(-1)).toBe('timeout 3000')
    heartbeat.stop()
  })
})
