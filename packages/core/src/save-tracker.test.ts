import { describe, expect, it } from 'vitest'
import { SessionAcks } from './save-tracker.js'

describe('SessionAcks on an upstream session', () => {
  it('an ack covers the local changes of the last message it reaches, once, across thousands in flight', () => {
    const acks = new SessionAcks()
    for (let i = 1; i <= 5_000; i++) acks.sent(i * 2, true)
    expect(acks.acked(0)).toBeUndefined()
    expect(acks.acked(5_001)).toBeUndefined()
    expect(acks.acked(3)).toBe(6)
    expect(acks.acked(3)).toBeUndefined()
    expect(acks.acked(2)).toBeUndefined()
    // Past the point where the acknowledged prefix is dropped, and again after it.
    expect(acks.acked(2_500)).toBe(5_000)
    expect(acks.acked(2_501)).toBe(5_002)
    for (let i = 5_001; i <= 6_000; i++) acks.sent(i * 2, true)
    expect(acks.acked(4_999)).toBe(9_998)
    expect(acks.acked(6_000)).toBe(12_000)
    expect(acks.acked(6_000)).toBeUndefined()
  })

  it('a session that is not upstream waits for no ack', () => {
    const acks = new SessionAcks()
    acks.sent(1, false)
    expect(acks.acked(1)).toBeUndefined()
  })
})
