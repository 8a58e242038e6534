import { describe, expect, it } from 'vitest'
import { bucketBitsFor, bucketOf, differingBuckets, docsToSync, inventoryAnswer, summaryMessage } from './inventory.js'
import type { InventoryEntry } from './messages.js'

const entry = (doc: string, version: number): InventoryEntry => ({ doc, digest: new Uint8Array(8).fill(version) })
const many = (n: number, version = 1) => Array.from({ length: n }, (_, i) => entry(`doc-${i}`, version))

/** What side A learns from B: B answers A's summary, A compares. */
const exchange = (a: InventoryEntry[], b: InventoryEntry[]) => {
  const summaryA = summaryMessage(a)
  const pages = inventoryAnswer(b, summaryA)
  const buckets = pages.flatMap((p) => p.buckets)
  const entries = pages.flatMap((p) => p.entries)
  return { toSync: docsToSync(a, entries, summaryA.bucketBits, buckets), pages, sent: entries.length }
}

describe('bucketed inventories', () => {
  it('pick about 16 documents a bucket', () => {
    expect(bucketBitsFor(0)).toBe(0)
    expect(bucketBitsFor(16)).toBe(0)
    expect(bucketBitsFor(17)).toBe(1)
    expect(bucketBitsFor(1000)).toBe(6)
    expect(bucketBitsFor(1e9)).toBe(16)
    for (let k = 0; k < 8; k++) for (const d of ['a', 'b/c', 'é']) expect(bucketOf(d, k)).toBeLessThan(1 << k)
  })

  it('equal inventories exchange no entries', () => {
    const { toSync, sent, pages } = exchange(many(1000), many(1000))
    expect(toSync).toEqual([])
    expect(sent).toBe(0)
    expect(pages).toHaveLength(1)
    expect(pages[0]?.final).toBe(true)
  })

  it('one changed document among a thousand costs one bucket of entries, not the whole inventory', () => {
    const b = many(1000)
    b[123] = entry('doc-123', 2)
    const { toSync, sent } = exchange(many(1000), b)
    expect(toSync).toEqual(['doc-123'])
    expect(sent).toBeLessThan(40)
  })

  it('finds documents only one side has, in either direction', () => {
    const a = many(300)
    const b = [...many(300), entry('only-b', 1)]
    a.push(entry('only-a', 1))
    expect(exchange(a, b).toSync).toEqual(['only-a', 'only-b'])
    expect(exchange(b, a).toSync).toEqual(['only-a', 'only-b'])
    expect(exchange([], many(3)).toSync).toEqual(['doc-0', 'doc-1', 'doc-2'])
    expect(exchange(many(3), []).toSync).toEqual(['doc-0', 'doc-1', 'doc-2'])
  })

  it("differing buckets are computed under the other side's bucket count", () => {
    const small = many(10)
    const large = many(5000)
    const summary = summaryMessage(large)
    expect(summary.bucketBits).toBeGreaterThan(0)
    expect(differingBuckets(small, summary).length).toBeGreaterThan(0)
    expect(differingBuckets(large, summary)).toEqual([])
  })
})
