import {
  assertDocName,
  ConvergeError,
  digestOfUpdate,
  EMPTY_STATE_VECTOR,
  EMPTY_UPDATE,
  type Store,
  type StoreStats,
} from '@converge/core'
import type { AbstractLevel } from 'abstract-level'
import { Level } from 'level'
import * as Y from 'yjs'
import {
  docOfIndexKey,
  indexKey,
  indexRange,
  logKey,
  logRange,
  metaKey,
  snapshotKey,
  snapshotRange,
  stateVectorKey,
  WriteKeys,
} from './level-keys.js'

// biome-ignore lint/suspicious/noExplicitAny: any abstract-level database works; keys and values are encoded per call.
export type AnyLevel = AbstractLevel<any, any, any>

export interface LevelStoreOptions {
  /**
   * fsync every batch before its appends resolve (classic-level's `sync`). Default false:
   * a batch survives a process crash, not a power loss.
   */
  sync?: boolean
  /** Compact a document on its own once its log holds at least this many updates. Default 500. */
  compactMinUpdates?: number
  /**
   * ...and its log bytes reach this share of the snapshot's bytes, so compaction work stays
   * proportional to what it saves. Default 0.5.
   */
  compactRatio?: number
  /** Compact regardless of the ratio once the log holds this many bytes. Default 8 MiB. */
  compactMaxLogBytes?: number
  /** Compact in the background (true, the default), or only when `compact()` is called. */
  autoCompact?: boolean
  /** Most appends in one LevelDB batch. Default 20_000. */
  maxBatchUpdates?: number
}

const DEFAULTS = {
  sync: false,
  compactMinUpdates: 500,
  compactRatio: 0.5,
  compactMaxLogBytes: 8 * 1024 * 1024,
  autoCompact: true,
  maxBatchUpdates: 20_000,
}

interface PendingAppend {
  doc: string
  update: Uint8Array
  resolve: () => void
  reject: (err: unknown) => void
}

/** What this instance knows about one document. */
interface DocInfo {
  /** Updates and bytes in the log (counted from the last load or compaction, plus appends since). */
  logCount: number
  logBytes: number
  snapshotBytes: number
  /** Bumped by every write; caches below are valid for one version. */
  version: number
  stateVector?: { version: number; value: Uint8Array }
  digest?: { version: number; value: Uint8Array }
}

const VIEW = { valueEncoding: 'view' } as const
const JSON_ENCODING = { valueEncoding: 'json' } as const

// setImmediate (Node) runs after the I/O of the current turn: everything appended in that
// turn joins the batch. Browsers have no setImmediate; a zero timeout is the nearest.
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate
const schedule: (fn: () => void) => void = immediate !== undefined ? (fn) => immediate(fn) : (fn) => setTimeout(fn, 0)

/**
 * The converge Store on any abstract-level database: classic-level on disk in Node,
 * IndexedDB in browsers (both through `level`), memory-level in tests.
 *
 * Appends are group-committed: everything appended within one turn of the event loop,
 * across all documents, goes to the database in one batch, and every append resolves
 * when its batch is written. Compaction merges a document's log into a snapshot in the
 * background; it writes the new snapshot and deletes exactly the entries it merged in
 * one atomic batch, so a crash at any point leaves a loadable document with nothing lost.
 */
export class LevelStore implements Store {
  readonly db: AnyLevel
  readonly stats: StoreStats = { appended: 0, batches: 0, writeErrors: 0, compactions: 0 }
  private readonly options: typeof DEFAULTS
  private readonly keys = new WriteKeys()
  private readonly docs = new Map<string, DocInfo>()
  private readonly indexed = new Set<string>()
  private queue: PendingAppend[] = []
  private flushScheduled = false
  private writing: Promise<void> | undefined
  private readonly compactions = new Map<string, Promise<void>>()
  private closing: Promise<void> | undefined

  /** `location` opens a `level` database there (a directory in Node, an IndexedDB name in browsers). */
  constructor(location: string | AnyLevel, options: LevelStoreOptions = {}) {
    this.db =
      typeof location === 'string' ? new Level(location, { keyEncoding: 'utf8', valueEncoding: 'view' }) : location
    this.options = { ...DEFAULTS, ...stripUndefined(options) }
  }

  /** Opens the database (also done lazily by the first operation). */
  async open(): Promise<void> {
    await this.db.open()
  }

  // --- appends ------------------------------------------------------------------

  append(doc: string, update: Uint8Array): Promise<void> {
    try {
      this.checkOpen()
      assertDocName(doc)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, update, resolve, reject })
      if (!this.flushScheduled && this.writing === undefined) {
        this.flushScheduled = true
        schedule(() => this.startWriting())
      }
    })
  }

  private startWriting(): void {
    this.flushScheduled = false
    if (this.writing !== undefined) return
    this.writing = this.writeAll().finally(() => {
      this.writing = undefined
      if (this.queue.length > 0) this.startWriting()
    })
  }

  /** Writes batches until the queue is empty; appends arriving meanwhile join the next batch. */
  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatchUpdates)
      // biome-ignore lint/suspicious/noExplicitAny: batch operations mix encodings.
      const ops: any[] = []
      const touched = new Map<string, { count: number; bytes: number }>()
      for (const p of batch) {
        ops.push({ type: 'put', key: logKey(p.doc, this.keys.next()), value: p.update, ...VIEW })
        const t = touched.get(p.doc)
        if (t === undefined) touched.set(p.doc, { count: 1, bytes: p.update.length })
        else {
          t.count++
          t.bytes += p.update.length
        }
      }
      for (const doc of touched.keys()) {
        if (!this.indexed.has(doc)) {
          ops.push({ type: 'put', key: indexKey(doc), value: { created: Date.now() }, ...JSON_ENCODING })
        }
      }
      try {
        await this.db.batch(ops, { sync: this.options.sync } as object)
      } catch (cause) {
        this.stats.writeErrors++
        const err = new ConvergeError(
          'CONVERGE_STORE_WRITE_FAILED',
          `LevelDB batch of ${batch.length} appends failed`,
          {
            cause,
          },
        )
        for (const p of batch) p.reject(err)
        continue
      }
      this.stats.batches++
      this.stats.appended += batch.length
      for (const [doc, t] of touched) {
        this.indexed.add(doc)
        const info = this.info(doc)
        info.logCount += t.count
        info.logBytes += t.bytes
        info.version++
        this.maybeCompact(doc, info)
      }
      for (const p of batch) p.resolve()
    }
  }

  // --- reads --------------------------------------------------------------------

  async load(doc: string): Promise<Uint8Array | undefined> {
    this.checkOpen()
    const { snapshots, log } = await this.readDoc(doc)
    if (snapshots.length === 0 && log.length === 0) return undefined
    const info = this.info(doc)
    info.logCount = log.length
    info.logBytes = sumBytes(log)
    info.snapshotBytes = sumBytes(snapshots)
    this.maybeCompact(doc, info)
    if (log.length === 0 && snapshots.length === 1) return snapshots[0]
    return Y.mergeUpdates([...snapshots, ...log])
  }

  async stateVector(doc: string): Promise<Uint8Array> {
    this.checkOpen()
    const info = this.info(doc)
    const version = info.version
    if (info.stateVector?.version === version) return info.stateVector.value
    let value: Uint8Array
    const { snapshots, log } = await this.readDoc(doc, { values: false })
    if (snapshots.length === 0 && log.length === 0) {
      value = EMPTY_STATE_VECTOR
    } else if (log.length === 0 && snapshots.length === 1) {
      // A compacted document: its state vector was stored with the snapshot.
      value = (await this.db.get(stateVectorKey(doc), VIEW)) ?? Y.encodeStateVectorFromUpdate(await this.mustLoad(doc))
    } else {
      value = Y.encodeStateVectorFromUpdate(await this.mustLoad(doc))
    }
    if (info.version === version) info.stateVector = { version, value }
    return value
  }

  async digest(doc: string): Promise<Uint8Array> {
    this.checkOpen()
    const info = this.info(doc)
    const version = info.version
    if (info.digest?.version === version) return info.digest.value
    const value = digestOfUpdate((await this.load(doc)) ?? EMPTY_UPDATE)
    if (info.version === version) info.digest = { version, value }
    return value
  }

  async list(): Promise<string[]> {
    this.checkOpen()
    const keys: string[] = await this.db.keys({ ...indexRange(), keyEncoding: 'utf8' }).all()
    return keys.map(docOfIndexKey).sort()
  }

  private async mustLoad(doc: string): Promise<Uint8Array> {
    return (await this.load(doc)) ?? EMPTY_UPDATE
  }

  /** Snapshot and log entries of a document, from one consistent view of the database. */
  private async readDoc(
    doc: string,
    { values = true }: { values?: boolean } = {},
  ): Promise<{ snapshots: Uint8Array[]; log: Uint8Array[]; snapshotKeys: string[]; logKeys: string[] }> {
    const snapshot = this.db.supports.explicitSnapshots ? this.db.snapshot() : undefined
    try {
      const read = async (r: { gte: string; lt: string }) => {
        const entries: Array<[string, Uint8Array]> = values
          ? await this.db.iterator({ ...r, keyEncoding: 'utf8', ...VIEW, snapshot }).all()
          : (await this.db.keys({ ...r, keyEncoding: 'utf8', snapshot }).all()).map((k: string) => [k, EMPTY_UPDATE])
        return entries
      }
      const [s, l] = await Promise.all([read(snapshotRange(doc)), read(logRange(doc))])
      return {
        snapshots: s.map((e) => e[1]),
        log: l.map((e) => e[1]),
        snapshotKeys: s.map((e) => e[0]),
        logKeys: l.map((e) => e[0]),
      }
    } finally {
      await snapshot?.close()
    }
  }

  // --- compaction ---------------------------------------------------------------

  private maybeCompact(doc: string, info: DocInfo): void {
    if (!this.options.autoCompact || this.compactions.has(doc) || this.closing !== undefined) return
    if (!this.isDue(info)) return
    const p = this.compactNow(doc, true).finally(() => this.compactions.delete(doc))
    this.compactions.set(doc, p)
    p.catch(() => {
      // Counted in stats.writeErrors; the log stays and the next trigger retries.
    })
  }

  private isDue(info: DocInfo): boolean {
    const { compactMinUpdates, compactRatio, compactMaxLogBytes } = this.options
    return (
      info.logBytes >= compactMaxLogBytes ||
      (info.logCount >= compactMinUpdates && info.logBytes >= compactRatio * info.snapshotBytes)
    )
  }

  /**
   * Merges the log into a new snapshot. Reads one consistent view, merges it in a Y.Doc
   * (dropping deleted content), then in one atomic batch writes the snapshot and its
   * state vector and deletes exactly the entries it read. Appends made meanwhile have
   * other keys and stay in the log.
   */
  compact(doc: string): Promise<void> {
    try {
      this.checkOpen()
    } catch (err) {
      return Promise.reject(err)
    }
    const running = this.compactions.get(doc)
    if (running !== undefined) return running
    const p = this.compactNow(doc, false).finally(() => this.compactions.delete(doc))
    this.compactions.set(doc, p)
    return p
  }

  private async compactNow(doc: string, onlyIfDue: boolean): Promise<void> {
    const { snapshots, log, snapshotKeys, logKeys } = await this.readDoc(doc)
    if (log.length === 0 && snapshots.length <= 1) return
    const info = this.info(doc)
    if (onlyIfDue) {
      // The in-memory counts may be estimates (appends to a document never loaded here).
      info.logCount = log.length
      info.logBytes = sumBytes(log)
      info.snapshotBytes = sumBytes(snapshots)
      if (!this.isDue(info)) return
    }
    const ydoc = new Y.Doc()
    Y.applyUpdate(ydoc, Y.mergeUpdates([...snapshots, ...log]))
    const merged = Y.encodeStateAsUpdate(ydoc)
    const stateVector = Y.encodeStateVector(ydoc)
    ydoc.destroy()
    // biome-ignore lint/suspicious/noExplicitAny: batch operations mix encodings.
    const ops: any[] = [
      { type: 'put', key: snapshotKey(doc, this.keys.next()), value: merged, ...VIEW },
      { type: 'put', key: stateVectorKey(doc), value: stateVector, ...VIEW },
      {
        type: 'put',
        key: metaKey(doc),
        value: { snapshotBytes: merged.length, compactedAt: Date.now() },
        ...JSON_ENCODING,
      },
    ]
    for (const key of [...snapshotKeys, ...logKeys]) ops.push({ type: 'del', key, keyEncoding: 'utf8' })
    const versionBefore = info.version
    try {
      await this.db.batch(ops, { sync: this.options.sync } as object)
    } catch (cause) {
      this.stats.writeErrors++
      throw new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `compaction of ${doc} failed`, { cause })
    }
    this.stats.compactions++
    this.indexed.add(doc)
    info.logCount = Math.max(0, info.logCount - log.length)
    info.logBytes = Math.max(0, info.logBytes - sumBytes(log))
    info.snapshotBytes = merged.length
    info.version++
    // Nothing was appended while compacting: the merged state is the whole state.
    if (info.version === versionBefore + 1 && info.logCount === 0) {
      info.stateVector = { version: info.version, value: stateVector }
    }
  }

  // --- removal and lifecycle ----------------------------------------------------

  async delete(doc: string): Promise<void> {
    this.checkOpen()
    await this.compactions.get(doc)?.catch(() => undefined)
    const { snapshotKeys, logKeys } = await this.readDoc(doc, { values: false })
    const keys = [indexKey(doc), metaKey(doc), stateVectorKey(doc), ...snapshotKeys, ...logKeys]
    await this.db.batch(
      keys.map((key) => ({ type: 'del', key, keyEncoding: 'utf8' })),
      { sync: this.options.sync } as object,
    )
    this.indexed.delete(doc)
    this.docs.delete(doc)
  }

  /** Writes what is queued, waits for running compactions, and closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.queue.length > 0 || this.writing !== undefined || this.flushScheduled) {
        if (this.writing === undefined && !this.flushScheduled) this.startWriting()
        await (this.writing ?? new Promise((r) => schedule(() => r(undefined))))
      }
      await Promise.allSettled([...this.compactions.values()])
      await this.db.close()
    })()
    return this.closing
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new ConvergeError('CONVERGE_STORE_CLOSED', 'store is closed')
  }

  private info(doc: string): DocInfo {
    let info = this.docs.get(doc)
    if (info === undefined) {
      info = { logCount: 0, logBytes: 0, snapshotBytes: 0, version: 0 }
      this.docs.set(doc, info)
    }
    return info
  }
}

const sumBytes = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0)

const stripUndefined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
