/**
 * Anti-entropy between relays in two rounds, so a reconnect costs bytes in proportion to
 * what changed rather than to how many documents there are:
 *
 * 1. Each side sends a summary: its documents hashed by name into 2^k buckets (k chosen
 *    for about 16 documents a bucket), one 8-byte digest per bucket.
 * 2. Each side answers the other's summary with its entries (name, state digest) for the
 *    buckets whose digests differ, under the other side's k. The receiver compares them
 *    with its own entries in those buckets and syncs every document that differs or that
 *    only one side has.
 */
import type { InventoryEntry, InventoryMessage, InventorySummaryMessage } from './messages.js'
import { equalBytes, fnv1a64 } from './state-digest.js'

/** Entries per inventory frame: about 32 KiB with typical names. */
export const INVENTORY_PAGE_SIZE = 512
/** Documents a bucket holds on average, which sets the number of buckets. */
export const DOCS_PER_BUCKET = 16
/** At most 2^16 buckets (512 KiB of summary). */
export const MAX_BUCKET_BITS = 16

const utf8 = new TextEncoder()

/** The k for `count` documents: the smallest with at most DOCS_PER_BUCKET documents a bucket. */
export const bucketBitsFor = (count: number): number => {
  let k = 0
  while (k < MAX_BUCKET_BITS && count > DOCS_PER_BUCKET << k) k++
  return k
}

/**
 * The bucket of a document name under 2^k buckets: the top k bits of its FNV-1a hash after
 * a final mix (FNV's high bits barely move for names that differ in their last characters).
 */
export const bucketOf = (doc: string, k: number): number => {
  if (k === 0) return 0
  const h = fnv1a64(utf8.encode(doc))
  let x = (((h[4] as number) << 24) | ((h[5] as number) << 16) | ((h[6] as number) << 8) | (h[7] as number)) >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return (x >>> 0) >>> (32 - k)
}

/** 8 bytes per bucket: the XOR of a hash of every (name, digest) entry in it. */
export const summarize = (entries: InventoryEntry[], k: number): Uint8Array => {
  const out = new Uint8Array(8 << k)
  for (const e of entries) {
    const h = fnv1a64(utf8.encode(e.doc), new Uint8Array([0]), e.digest)
    const at = bucketOf(e.doc, k) * 8
    for (let i = 0; i < 8; i++) out[at + i] = (out[at + i] as number) ^ (h[i] as number)
  }
  return out
}

export const summaryMessage = (entries: InventoryEntry[]): InventorySummaryMessage => {
  const bucketBits = bucketBitsFor(entries.length)
  return { type: 'inventory-summary', bucketBits, digests: summarize(entries, bucketBits) }
}

/** Buckets whose digests differ between our entries and a remote summary (under its k). */
export const differingBuckets = (local: InventoryEntry[], remote: InventorySummaryMessage): number[] => {
  const mine = summarize(local, remote.bucketBits)
  const out: number[] = []
  for (let b = 0; b < 1 << remote.bucketBits; b++) {
    const at = b * 8
    if (!equalBytes(mine.subarray(at, at + 8), remote.digests.subarray(at, at + 8))) out.push(b)
  }
  return out
}

/** Our answer to a remote summary: our entries in the differing buckets, in frames; the last is final. */
export const inventoryAnswer = (
  local: InventoryEntry[],
  remote: InventorySummaryMessage,
  pageSize = INVENTORY_PAGE_SIZE,
): InventoryMessage[] => {
  const buckets = differingBuckets(local, remote)
  const wanted = new Set(buckets)
  const entries = local.filter((e) => wanted.has(bucketOf(e.doc, remote.bucketBits)))
  const pages: InventoryMessage[] = []
  for (let i = 0; i < entries.length || i === 0; i += pageSize) {
    pages.push({
      type: 'inventory',
      bucketBits: remote.bucketBits,
      buckets: i === 0 ? buckets : [],
      entries: entries.slice(i, i + pageSize),
      final: false,
    })
  }
  ;(pages[pages.length - 1] as InventoryMessage).final = true
  return pages
}

/**
 * Names of documents to sync after a remote answered our summary with `remote` entries
 * for `buckets` (under `bucketBits`): those whose digests differ, or that only one side
 * has within those buckets. Sorted.
 */
export const docsToSync = (
  local: InventoryEntry[],
  remote: InventoryEntry[],
  bucketBits: number,
  buckets: Iterable<number>,
): string[] => {
  const scope = new Set(buckets)
  const mine = new Map(local.filter((e) => scope.has(bucketOf(e.doc, bucketBits))).map((e) => [e.doc, e.digest]))
  const out = new Set<string>()
  for (const e of remote) {
    const d = mine.get(e.doc)
    if (d === undefined || !equalBytes(d, e.digest)) out.add(e.doc)
    mine.delete(e.doc)
  }
  for (const doc of mine.keys()) out.add(doc)
  return [...out].sort()
}
