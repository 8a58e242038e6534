import { describe, expect, it } from 'vitest'
import { WEAK_CACHE_TABLE_SETS, WeakCache } from './weak-cache.js'

describe('WeakCache', () => {
  it('returns the value set for a key, never another key’s, and misses a key only after a table’s worth of later sets', () => {
    const cache = new WeakCache<object, number>()
    const keys = Array.from({ length: WEAK_CACHE_TABLE_SETS * 3 }, () => ({}))
    keys.forEach((k, i) => {
      cache.set(k, i)
      // Every key set since the current table started is still there, with its own value.
      const start = i - ((i % WEAK_CACHE_TABLE_SETS) as number)
      for (let j = start; j <= i; j++) expect(cache.get(keys[j] as object)).toBe(j)
    })
    // The keys of the tables before the last are misses (the caller computes them again), not wrong values.
    for (let j = 0; j < WEAK_CACHE_TABLE_SETS * 2; j++) expect(cache.get(keys[j] as object)).toBeUndefined()
    expect(cache.get({})).toBeUndefined()
  })

  it('a key set again after a miss is found again', () => {
    const cache = new WeakCache<object, string>()
    const first = {}
    cache.set(first, 'a')
    for (let i = 0; i < WEAK_CACHE_TABLE_SETS; i++) cache.set({}, 'filler')
    expect(cache.get(first)).toBeUndefined()
    cache.set(first, 'a')
    expect(cache.get(first)).toBe('a')
  })
})
