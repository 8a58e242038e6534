import { describe, expect, it } from 'vitest'
import { fnv1a64, fnv1a64Reference } from './state-digest.js'

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const bytes = (s: string) => new TextEncoder().encode(s)

/** A small seeded generator (xorshift32): the same inputs on every run. */
const xorshift = (seed: number) => () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return seed >>> 0
}

describe('fnv1a64', () => {
  it('gives the published FNV-1a 64 values', () => {
    expect(hex(fnv1a64())).toBe('cbf29ce484222325')
    expect(hex(fnv1a64(bytes('a')))).toBe('af63dc4c8601ec8c')
    expect(hex(fnv1a64(bytes('foobar')))).toBe('85944171f73967e8')
  })

  it('equals the BigInt reference on any bytes, split into any parts (seed 20261121)', () => {
    const next = xorshift(20261121)
    for (let run = 0; run < 300; run++) {
      const parts = Array.from({ length: next() % 4 }, () =>
        Uint8Array.from({ length: next() % 64 }, () => next() & 0xff),
      )
      expect(hex(fnv1a64(...parts))).toBe(hex(fnv1a64Reference(...parts)))
    }
  })
})
