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

describe('SessionAcks durable prefix', () => {
  it('in any order of durability, the durable prefix is the longest run from 1 made durable, and moves exactly when it grows', () => {
    // Seeded: replay with the same seed.
    const seed = 12
    let state = seed
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31
      return state / 2 ** 31
    }
    for (let round = 0; round < 50; round++) {
      const n = 1 + Math.floor(random() * 40)
      const order = Array.from({ length: n }, (_, i) => i + 1)
      // Mostly in order, sometimes shuffled a little: both paths of `durable`.
      for (let i = n - 1; i > 0; i--) {
        if (random() < 0.3) {
          const j = Math.floor(random() * (i + 1))
          ;[order[i], order[j]] = [order[j] as number, order[i] as number]
        }
      }
      const acks = new SessionAcks()
      const done = new Set<number>()
      let prefix = 0
      for (const seq of order) {
        done.add(seq)
        const before = prefix
        while (done.has(prefix + 1)) prefix++
        expect(acks.durable(seq), `seed ${seed} round ${round}: ${order.join(',')}`).toBe(prefix !== before)
        expect(acks.durableThrough).toBe(prefix)
      }
      expect(acks.durableThrough).toBe(n)
    }
  })
})
