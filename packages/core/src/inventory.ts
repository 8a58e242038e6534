import type { InventoryEntry, InventoryMessage } from './messages.js'
import { equalBytes } from './state-digest.js'

/** Entries per inventory frame: about 32 KiB with typical names. */
export const INVENTORY_PAGE_SIZE = 512

/** Splits an inventory into frames; the last one is marked final (an empty inventory is one empty final frame). */
export const inventoryPages = (entries: InventoryEntry[], pageSize = INVENTORY_PAGE_SIZE): InventoryMessage[] => {
  const pages: InventoryMessage[] = []
  for (let i = 0; i < entries.length; i += pageSize) {
    pages.push({ type: 'inventory', entries: entries.slice(i, i + pageSize), final: false })
  }
  if (pages.length === 0) pages.push({ type: 'inventory', entries: [], final: true })
  else (pages[pages.length - 1] as InventoryMessage).final = true
  return pages
}

/** Names of documents whose digests differ, or that only one side has, sorted. */
export const docsToSync = (local: InventoryEntry[], remote: InventoryEntry[]): string[] => {
  const mine = new Map(local.map((e) => [e.doc, e.digest]))
  const out = new Set<string>()
  for (const e of remote) {
    const d = mine.get(e.doc)
    if (d === undefined || !equalBytes(d, e.digest)) out.add(e.doc)
    mine.delete(e.doc)
  }
  for (const doc of mine.keys()) out.add(doc)
  return [...out].sort()
}
