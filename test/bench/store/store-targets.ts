import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LevelStore, type LevelStoreOptions, type LevelStoreStats } from '@converge/level'
import { LeveldbPersistence } from 'y-leveldb'
import * as Y from 'yjs'

/** A store under test, opened on a directory: append updates, merge, close, load cold. */
export interface StoreTarget {
  readonly name: string
  append(doc: string, update: Uint8Array): Promise<unknown>
  /** Merges the document's log (converge: compact(); y-leveldb: flushDocument()). */
  compact(doc: string): Promise<void>
  close(): Promise<void>
  /** Counters worth reporting, if the store keeps any. */
  stats(): Record<string, number> | undefined
}

/**
 * Opens a store on `dir`, then loads `doc` into a fresh Y.Doc. `openMs` is the opening of
 * the database; `loadMs` runs from the open store until the Y.Doc holds the document (the
 * document is cold: not in memory, not in LevelDB's block cache, which a fresh open empties).
 */
export type ColdLoad = (
  dir: string,
  doc: string,
) => Promise<{ doc: Y.Doc; openMs: number; loadMs: number; close: () => Promise<void> }>

export const convergeTarget = async (dir: string, options: LevelStoreOptions = {}): Promise<StoreTarget> => {
  const store = new LevelStore(dir, options)
  await store.open()
  return {
    name: `converge LevelStore${options.changeLog === true ? ' + change log' : ''}${options.sync === true ? ' (sync)' : ''}`,
    append: (doc, update) => store.append(doc, update),
    compact: (doc) => store.compact(doc),
    close: () => store.close(),
    stats: () => ({ ...(store.stats as LevelStoreStats) }),
  }
}

export const convergeColdLoad: ColdLoad = async (dir, doc) => {
  let started = performance.now()
  const store = new LevelStore(dir)
  await store.open()
  const openMs = performance.now() - started
  started = performance.now()
  const update = await store.load(doc)
  const ydoc = new Y.Doc()
  if (update !== undefined) Y.applyUpdate(ydoc, update)
  return { doc: ydoc, openMs, loadMs: performance.now() - started, close: () => store.close() }
}

/** y-leveldb 0.2.0, driven through its own API. */
export const yLeveldbTarget = async (dir: string): Promise<StoreTarget> => {
  const persistence = new LeveldbPersistence(dir)
  return {
    name: 'y-leveldb 0.2.0',
    append: (doc, update) => persistence.storeUpdate(doc, update),
    compact: (doc) => persistence.flushDocument(doc),
    close: () => persistence.destroy(),
    stats: () => undefined,
  }
}

export const yLeveldbColdLoad: ColdLoad = async (dir, doc) => {
  let started = performance.now()
  const persistence = new LeveldbPersistence(dir)
  // y-leveldb opens its database on first use: a metadata read that finds nothing opens it.
  await persistence.getMeta(doc, 'converge-bench-open')
  const openMs = performance.now() - started
  started = performance.now()
  const ydoc = await persistence.getYDoc(doc)
  return { doc: ydoc, openMs, loadMs: performance.now() - started, close: () => persistence.destroy() }
}

/** Sum of the sizes of the files under `dir` (what `du --apparent-size -b` reports). */
export const bytesOnDisk = async (dir: string): Promise<number> => {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? await bytesOnDisk(path) : (await stat(path)).size
  }
  return total
}
