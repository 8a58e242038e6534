import {
  type AppendMeta,
  assertDocName,
  ConvergeError,
  definedOnly,
  digestOfUpdate,
  EMPTY_UPDATE,
  rebuildFromParts,
  type Store,
} from '@converge/core'
import { Level } from 'level'
import * as encoding from 'lib0/encoding'
import type * as Y from 'yjs'
import { type BatchOp, EMPTY, JSON_VALUE, KEY, VIEW, writeOps } from './batch-ops.js'
import { Compactor } from './compactor.js'
import {
  type DocEntries,
  type DocInfo,
  readChunk,
  readDocEntries,
  stateVectorOfEntries,
  sumBytes,
} from './doc-entries.js'
import { GroupCommit } from './group-commit.js'
import { replayJournal } from './journal-records.js'
import { LevelChangeLog } from './level-change-log.js'
import {
  docOfIndexKey,
  docRange,
  indexKey,
  indexRange,
  metaKey,
  quarantineKey,
  snapshotKey,
  stateVectorKey,
  WriteKeys,
} from './level-keys.js'
import {
  type AnyLevel,
  LEVEL_STORE_DEFAULTS,
  type LevelStoreOptions,
  type LevelStoreStats,
} from './level-store-options.js'
import { mergeParts } from './merge-parts.js'

export type { AnyLevel, LevelStoreOptions, LevelStoreStats } from './level-store-options.js'

/**
 * The converge Store on any abstract-level database: classic-level on disk in Node,
 * IndexedDB in browsers (both through `level`), memory-level in tests.
 *
 * Appends are group-committed (group-commit.ts): everything appended within one turn of
 * the event loop, across all documents, goes to the database in one batch (one log entry
 * per document), and every append resolves when its batch is written, or rejects when it fails.
 * Compaction merges a document's log into a snapshot in the background; one atomic batch
 * writes the snapshot and deletes exactly the entries it merged, so a crash at any point
 * leaves a loadable document with nothing lost. See README.md for the key layout.
 */
export class LevelStore implements Store {
  readonly db: AnyLevel
  readonly stats: LevelStoreStats = {
    appended: 0,
    batches: 0,
    writeErrors: 0,
    compactions: 0,
    compactionsSkipped: 0,
    reclaims: 0,
    compactionMs: 0,
    longestCompactionStepMs: 0,
  }
  private readonly options: typeof LEVEL_STORE_DEFAULTS
  private readonly onError: (err: ConvergeError) => void
  private readonly keys = new WriteKeys()
  private readonly docs = new Map<string, DocInfo>()
  private readonly appends: GroupCommit
  private readonly compactor: Compactor
  /** Compactions and deletions of one document run one after another. */
  private readonly docLocks = new Map<string, Promise<void>>()
  /** Set by the first open() and the first close(). */
  private readonly lifecycle: { opening?: Promise<void>; closing?: Promise<void> } = {}
  readonly changes: LevelChangeLog | undefined

  /** `location` opens a `level` database there (a directory in Node, an IndexedDB name in browsers). */
  constructor(location: string | AnyLevel, options: LevelStoreOptions = {}) {
    this.db =
      typeof location === 'string' ? new Level(location, { keyEncoding: 'utf8', valueEncoding: 'view' }) : location
    const { onError, journal, ...rest } = options
    this.options = { ...LEVEL_STORE_DEFAULTS, ...definedOnly(rest) }
    const journaled = journal === undefined ? undefined : { to: journal, seq: 0 }
    this.onError = onError ?? ((err) => console.warn(`[converge/level] ${err.message}`, err.cause ?? ''))
    this.changes = this.options.changeLog ? new LevelChangeLog(this.db) : undefined
    this.appends = new GroupCommit({
      db: this.db,
      options: this.options,
      stats: this.stats,
      keys: this.keys,
      changes: this.changes,
      journal: journaled,
      ready: () => (journaled === undefined ? Promise.resolve() : this.open()),
      logged: (doc, chunk) => {
        const info = this.info(doc)
        info.logCount += chunk.count
        info.logBytes += chunk.bytes
        info.version++
        this.compactor.maybeCompact(doc, info)
      },
    })
    this.compactor = new Compactor({
      db: this.db,
      options: this.options,
      stats: this.stats,
      closed: () => this.lifecycle.closing !== undefined,
      readDoc: (doc) => readDocEntries(this.db, doc, this.reportTo),
      decodeLog: (doc, entries, onBad) => this.decodeLog(doc, entries, onBad),
      info: (doc) => this.info(doc),
      withDocLock: (doc, task) => this.withDocLock(doc, task),
      writeSnapshot: (...args) => this.writeSnapshot(...args),
      report: this.reportTo,
    })
  }

  /**
   * Opens the database (also done lazily by the first operation without a journal), and
   * writes to LevelDB the batches the journal holds that it does not.
   */
  open(): Promise<void> {
    this.lifecycle.opening ??= (async () => {
      await this.db.open()
      const journal = this.appends.journal
      if (journal !== undefined) journal.seq = await replayJournal(this.db, journal.to, this.options.sync)
    })()
    return this.lifecycle.opening
  }

  /** Set once LevelDB failed a batch already acknowledged from the journal: appends fail until the store is opened again. */
  get failure(): ConvergeError | undefined {
    return this.appends.failure
  }

  /** Before a read: the store is open, and LevelDB holds every append made so far (a journaled one may resolve first). */
  private async settled(): Promise<void> {
    if (this.appends.journal === undefined) return
    await this.open()
    await this.appends.written()
  }

  // --- appends ------------------------------------------------------------------

  append(doc: string, update: Uint8Array, meta?: AppendMeta): Promise<void> {
    try {
      this.checkOpen()
      assertDocName(doc)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.appends.append(doc, update, meta)
  }

  // --- reads --------------------------------------------------------------------

  async load(doc: string): Promise<Uint8Array | undefined> {
    this.checkOpen()
    await this.settled()
    const entries = await readDocEntries(this.db, doc, this.reportTo)
    if (entries.snapshots.length === 0 && entries.log.length === 0) return undefined
    const { info, log } = this.decodeLog(doc, entries)
    const snapshots = entries.snapshots.map((s) => s.value)
    this.compactor.maybeCompact(doc, info)
    return mergeParts([...snapshots, ...log], (err) => this.report(err, `loading ${doc}: an entry does not apply`))
  }

  /**
   * The stored state vector: the snapshot's, as stored beside it, plus the structs of
   * the log; no Y.Doc is built. Cached until the next append.
   */
  async stateVector(doc: string): Promise<Uint8Array> {
    this.checkOpen()
    await this.settled()
    const info = this.info(doc)
    const version = info.version
    if (info.stateVector?.version === version) return info.stateVector.value
    const entries = await readDocEntries(this.db, doc, this.reportTo)
    const value = stateVectorOfEntries(doc, entries, this.reportTo)
    if (info.version === version) info.stateVector = { version, value }
    return value
  }

  async digest(doc: string): Promise<Uint8Array> {
    this.checkOpen()
    await this.settled()
    const info = this.info(doc)
    const version = info.version
    if (info.digest?.version === version) return info.digest.value
    const value = digestOfUpdate((await this.load(doc)) ?? EMPTY_UPDATE)
    if (info.version === version) info.digest = { version, value }
    return value
  }

  async list(): Promise<string[]> {
    this.checkOpen()
    await this.settled()
    const keys: string[] = await this.db.keys({ ...indexRange(), ...KEY }).all()
    return keys.map(docOfIndexKey).sort()
  }

  /**
   * The updates of a document's log, decoded; refreshes the counts kept in memory, which
   * are estimates (another instance may write too). `onBad` gets entries that do not decode.
   */
  private decodeLog(
    doc: string,
    entries: DocEntries,
    onBad?: (value: Uint8Array) => void,
  ): { info: DocInfo; log: Uint8Array[] } {
    const log = entries.log.flatMap((e) => readChunk(doc, e, this.reportTo, onBad))
    const info = this.info(doc)
    info.logCount = log.length
    info.logBytes = log.reduce((n, u) => n + u.length, 0)
    info.snapshotBytes = sumBytes(entries.snapshots)
    return { info, log }
  }

  /**
   * Merges the log into a new snapshot: reads the document in one scan, applies it to a
   * Y.Doc (yielding to the event loop between slices of the log), then in one atomic
   * batch writes the snapshot and its state vector and deletes exactly the entries it
   * read. Appends made meanwhile have other keys and stay in the log.
   */
  compact(doc: string): Promise<void> {
    try {
      this.checkOpen()
    } catch (err) {
      return Promise.reject(err)
    }
    return this.compactor.compact(doc)
  }

  /**
   * In one atomic batch: writes `merged` as the document's new snapshot with its state
   * vector, puts `quarantine` aside, and deletes exactly the entries of `entries` (appends
   * made since have other keys and stay). Resolves with the meta entry written.
   */
  private async writeSnapshot(
    doc: string,
    entries: DocEntries,
    merged: Uint8Array,
    stateVector: Uint8Array,
    quarantine: Uint8Array[],
    mergedUpdates: number,
    what: string,
  ): Promise<object> {
    const { snapshots } = entries
    const gen = snapshots.reduce((g, s) => Math.max(g, s.gen), 0) + 1
    const newSnapshotKey = snapshotKey(doc, gen, this.keys.next())
    const svEntry = encoding.createEncoder()
    encoding.writeVarString(svEntry, newSnapshotKey)
    encoding.writeVarUint8Array(svEntry, stateVector)
    const meta = { snapshotBytes: merged.length, mergedUpdates, compactedAt: Date.now() }
    const ops: BatchOp[] = [
      { type: 'put', key: newSnapshotKey, value: merged, ...VIEW },
      { type: 'put', key: stateVectorKey(doc), value: encoding.toUint8Array(svEntry), ...VIEW },
      { type: 'put', key: metaKey(doc), value: meta, ...JSON_VALUE },
      { type: 'put', key: indexKey(doc), value: EMPTY, ...VIEW },
    ]
    for (const value of quarantine) ops.push({ type: 'put', key: quarantineKey(doc, this.keys.next()), value, ...VIEW })
    for (const { key } of [...snapshots, ...entries.log]) ops.push({ type: 'del', key, ...KEY })
    try {
      await writeOps(this.db, this.options.sync, ops)
    } catch (cause) {
      this.stats.writeErrors++
      throw new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `${what} of ${doc} failed`, { cause })
    }
    return meta
  }

  /**
   * Rebuilds a document part by part, setting aside (under quarantine keys, never deleted)
   * every part that `check` rejects or Yjs cannot apply; see Store.repair.
   */
  repair(doc: string, check: (ydoc: Y.Doc, part: Uint8Array) => void): Promise<number> {
    try {
      this.checkOpen()
    } catch (err) {
      return Promise.reject(err)
    }
    this.compactor.forget(doc)
    let setAside = 0
    return this.withDocLock(doc, async () => {
      const entries = await readDocEntries(this.db, doc, this.reportTo)
      if (entries.snapshots.length === 0 && entries.log.length === 0) return
      const quarantine: Uint8Array[] = []
      const { info, log } = this.decodeLog(doc, entries, (value) => quarantine.push(value))
      const parts = [...entries.snapshots.map((s) => s.value), ...log]
      const { update, stateVector, bad } = rebuildFromParts(parts, check)
      quarantine.push(...bad)
      setAside = quarantine.length
      if (setAside === 0) return
      this.report(new Error(`${setAside} stored parts fail to load`), `repairing ${doc}: they are quarantined`)
      await this.writeSnapshot(doc, entries, update, stateVector, quarantine, log.length, 'repair')
      info.logCount = 0
      info.logBytes = 0
      info.snapshotBytes = update.length
      info.version++
    }).then(() => setAside)
  }

  // --- removal and lifecycle ----------------------------------------------------

  async delete(doc: string): Promise<void> {
    this.checkOpen()
    // Appends made before the call are part of what is deleted.
    await this.appends.written()
    this.compactor.forget(doc)
    await this.withDocLock(doc, async () => {
      const keys: string[] = await this.db.keys({ ...docRange(doc), ...KEY }).all()
      try {
        await writeOps(
          this.db,
          this.options.sync,
          [indexKey(doc), ...keys].map((key): BatchOp => ({ type: 'del', key, ...KEY })),
        )
      } catch (cause) {
        this.stats.writeErrors++
        throw new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `deleting ${doc} failed`, { cause })
      }
      this.appends.deleted(doc)
      const info = this.info(doc)
      this.docs.set(doc, { logCount: 0, logBytes: 0, snapshotBytes: 0, deletedBytes: 0, version: info.version + 1 })
    })
  }

  /**
   * `doc` was unloaded by its replica: drops the counts and caches kept for it (its log
   * size estimates, cached state vector and digest, whether its index entry was written).
   * They are estimates: the next load recounts them, and until then a compaction may come
   * later than it would have.
   */
  unloaded(doc: string): void {
    this.docs.delete(doc)
    this.appends.unloaded(doc)
  }

  /** How many documents the store keeps counts or caches for in memory (loaded or written since their last unload). */
  get docsInMemory(): number {
    const names = new Set(this.docs.keys())
    for (const doc of this.appends.indexedDocs()) names.add(doc)
    return names.size
  }

  /** Writes what is queued, stops compactions (a running one stops at its next step), and closes the database. */
  close(): Promise<void> {
    this.lifecycle.closing ??= (async () => {
      await this.appends.written()
      const compaction = this.compactor.stop()
      await Promise.allSettled([compaction, ...this.docLocks.values()])
      await this.db.close()
      this.appends.journal?.to.close()
    })()
    return this.lifecycle.closing
  }

  private withDocLock(doc: string, task: () => Promise<void>): Promise<void> {
    const run = (this.docLocks.get(doc) ?? Promise.resolve()).then(task)
    const tail = run.then(noop, noop)
    this.docLocks.set(doc, tail)
    tail.then(() => {
      if (this.docLocks.get(doc) === tail) this.docLocks.delete(doc)
    })
    return run
  }

  private readonly reportTo = (err: unknown, context: string): void => this.report(err, context)

  private report(err: unknown, context: string): void {
    const code = err instanceof ConvergeError ? err.code : 'CONVERGE_INTERNAL'
    const e = new ConvergeError(code, `${context}: ${message(err)}`, { cause: err })
    try {
      this.onError(e)
    } catch {
      // An error hook that throws must not break the store.
    }
  }

  private checkOpen(): void {
    if (this.lifecycle.closing !== undefined) throw new ConvergeError('CONVERGE_STORE_CLOSED', 'store is closed')
  }

  private info(doc: string): DocInfo {
    let info = this.docs.get(doc)
    if (info === undefined) {
      info = { logCount: 0, logBytes: 0, snapshotBytes: 0, deletedBytes: 0, version: 0 }
      this.docs.set(doc, info)
    }
    return info
  }
}

const noop = () => undefined

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))
