import { describe, expect, it } from 'vitest'
import { RateLimiter } from './rate-limiter.js'

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, and refills over time', () => {
    let now = 0
    const limiter = new RateLimiter(10, 5, () => now)
    for (let i = 0; i < 5; i++) expect(limiter.take()).toBe(true)
    expect(limiter.take()).toBe(false)
    now += 100 // one token at 10 per second
    expect(limiter.take()).toBe(true)
    expect(limiter.take()).toBe(false)
    now += 10_000 // refills up to the burst, no further
    for (let i = 0; i < 5; i++) expect(limiter.take()).toBe(true)
    expect(limiter.take()).toBe(false)
  })
})

describe('RateLimiter debt (pacing)', () => {
  it('a message from an empty bucket is owed, and the wait is the time until a token is back', () => {
    let now = 0
    const limiter = new RateLimiter(10, 2, () => now)
    expect(limiter.takeOrOwe()).toBe(0)
    expect(limiter.takeOrOwe()).toBe(0)
    // Empty: one owed; a whole token is back after (1 + 1) / 10 s.
    expect(limiter.takeOrOwe()).toBe(200)
    expect(limiter.debt).toBe(1)
    now += 200
    expect(limiter.debt).toBe(0)
    expect(limiter.takeOrOwe()).toBe(0)
  })
})
