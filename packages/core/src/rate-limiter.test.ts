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
