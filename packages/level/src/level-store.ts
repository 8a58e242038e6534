import {
  type AppendMeta,
  assertDocName,
  ConvergeError,
  definedOnly,
  digestOfUpdate,
  EMPTY_STATE_VECTOR,
  EMPTY_UPDATE,
  FailedTurn,
  nextTurn,
  onNextTurn,
  rebuildFromParts,
  type Store,
  type StoreStats,
} from '@converge/core'
import type { AbstractLevel } from 'abstract-level'
import { Level } from 'level'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { LevelChangeLog, type PendingChange } from './level-change-log.js'
import {
  docOfIndexKey,
  docRange,
  genOfSnapshotKey,
  indexKey,
  indexRange,
  kindOfDocKey,
  logKey,
  metaKey,
  quarantineKey,
  snapshotKey,
  stateVectorKey,
  WriteKeys,
} from './level-keys.js'
import { LogChunkWriter, readLogChunk } from './log-chunk.js'
import { applyParts, mergeParts } from './merge-parts.js'
import { StateVectorUnion } from './state-vector-union.js'

// biome-ignore lint/suspicious/noExplicitAny: any abstract-level database works; keys and values are encoded per call.
export type AnyLevel = AbstractLevel<any, any, any>

export interface LevelStoreOptions {
  /**
   * fsync every batch before its appends resolve (LevelDB's `sync`). Default false: a
   * resolved append survives a crash of the process, not of the machine.
   */
  sync?: boolean
  /** Compact a document in the background once its log holds at least this many updates... Default 500. */
  compactMinUpdates?: number
  /**
   * ...and its log bytes reach this share of the snapshot's bytes, so the work of a
   * compaction (proportional to the snapshot) stays proportional to what it merges. Default 0.5.
   */
  compactRatio?: number
  /** Compact regardless of the ratio once the log holds this many bytes. Default 8 MiB. */
  compactMaxLogBytes?: number
  /** Compact in the background (true, the default), or only when `compact()` is called. */
  autoCompact?: boolean
  /**
   * Compaction drops the content of deleted items (Yjs garbage collection). Default true;
   * false keeps it, for apps that restore old versions with Yjs snapshots.
   */
  gc?: boolean
  /** Most appends in one LevelDB batch. Default 20_000. */
  maxBatchUpdates?: number
  /** Most update bytes in one LevelDB batch. Default 16 MiB. */
  maxBatchBytes?: number
  /**
   * Once background compactions have deleted this many bytes of a document's entries (and
   * at least twice its snapshot), ask LevelDB to compact that document's key range
   * (classic-level's `compactRange`), so the disk space of deleted entries comes back now
   * rather than whenever LevelDB gets to it. An explicit `compact()` always does. 0 turns
   * it off for background compactions. Default 1 MiB.
   */
  reclaimAfterBytes?: number
  /**
   * Receives errors that no caller awaits: a background compaction that failed (its log
   * stays and a later trigger retries), a stored entry Yjs could not apply. Default: console.warn.
   */
  onError?: (err: ConvergeError) => void
  /**
   * Keep a change log (see level-change-log.ts): every append also writes a
   * sequence-numbered record, in the same batch. Default false.
   */
  changeLog?: boolean
}

const DEFAULTS: Required<Omit<LevelStoreOptions, 'onError'>> = {
  changeLog: false,
  sync: false,
  compactMinUpdates: 500,
  compactRatio: 0.5,
  compactMaxLogBytes: 8 * 1024 * 1024,
  autoCompact: true,
  gc: true,
  maxBatchUpdates: 20_000,
  maxBatchBytes: 16 * 1024 * 1024,
  reclaimAfterBytes: 1024 * 1024,
}

/** Log updates a compaction applies between two yields to the event loop. */
const COMPACTION_SLICE = 2_048

/** Counters of a LevelStore, for metrics and benchmarks. */
export interface LevelStoreStats extends StoreStats {
  /** Compactions that read a document and wrote nothing (it was not due after all). */
  compactionsSkipped: number
  /** Range compactions asked of LevelDB to free the space of deleted entries. */
  reclaims: number
  /** Wall time spent in compactions, ms (they interleave with other work). */
  compactionMs: number
  /** The longest stretch a compaction held the event loop, ms. */
  longestCompactionStepMs: number
}

/** Appends made within one turn: one LevelDB batch, one promise shared by its appends. */
interface Batch {
  docs: Map<string, LogChunkWriter>
  /** Every append in order, for the change log (empty without one). */
  changes: PendingChange[]
  count: number
  bytes: number
  done: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

/** What this instance knows about one document. */
interface DocInfo {
  /** Updates and bytes in the log (as of the last read of it, plus appends since). */
  logCount: number
  logBytes: number
  snapshotBytes: number
  /** Log bytes deleted by compactions since LevelDB last compacted the range. */
  deletedBytes: number
  /** Bumped by every append and delete; the caches below hold for one version. */
  version: number
  stateVector?: { version: number; value: Uint8Array }
  digest?: { version: number; value: Uint8Array }
}

/** A batch operation; each carries its encodings, so a database opened with other defaults works too. */
type BatchOp =
  | { type: 'put'; key: string; value: unknown; keyEncoding: 'utf8'; valueEncoding: 'view' | 'json' | 'utf8' }
  | { type: 'del'; key: string; keyEncoding: 'utf8' }

/** One scan of a document's range. */
interface DocEntries {
  log: Array<{ key: string; value: Uint8Array }>
  snapshots: Array<{ key: string; value: Uint8Array; gen: number }>
  /** The stored state vector, and the key of the snapshot it belongs to. */
  stateVector: { snapshotKey: string; value: Uint8Array } | undefined
}

const KEY = { keyEncoding: 'utf8' } as const
const VIEW = { keyEncoding: 'utf8', valueEncoding: 'view' } as const
const JSON_VALUE = { keyEncoding: 'utf8', valueEncoding: 'json' } as const
const EMPTY = new Uint8Array(0)
const noop = () => undefined

const sumBytes = (parts: Array<{ value: Uint8Array }>) => parts.reduce((n, p) => n + p.value.length, 0)

/**
 * The converge Store on any abstract-level database: classic-level on disk in Node,
 * IndexedDB in browsers (both through `level`), memory-level in tests.
 *
 * Appends are group-committed: everything appended within one turn of the event loop,
 * across all documents, goes to the database in one batch (one log entry per document),
 * and every append resolves when its batch is written, or rejects when it fails.
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
  private readonly options: typeof DEFAULTS
  private readonly onError: (err: ConvergeError) => void
  private readonly keys = new WriteKeys()
  private readonly docs = new Map<string, DocInfo>()
  /** Documents whose index entry this instance has written. */
  private readonly indexed = new Set<string>()
  /** Batches not yet written; appends join the last one. */
  private pending: Batch[] = []
  private inFlight: Batch | undefined
  private writeScheduled = false
  private readonly failedTurn = new FailedTurn()
  /** Documents due for a background compaction, compacted one at a time. */
  private readonly compactQueue = new Set<string>()
  /** Documents being compacted right now. */
  private readonly compacting = new Set<string>()
  private compactWorker: Promise<void> | undefined
  /** Compactions and deletions of one document run one after another. */
  private readonly docLocks = new Map<string, Promise<void>>()
  private closing: Promise<void> | undefined
  readonly changes: LevelChangeLog | undefined

  /** `location` opens a `level` database there (a directory in Node, an IndexedDB name in browsers). */
  constructor(location: string | AnyLevel, options: LevelStoreOptions = {}) {
    this.db =
      typeof location === 'string' ? new Level(location, { keyEncoding: 'utf8', valueEncoding: 'view' }) : location
    const { onError, ...rest } = options
    this.options = { ...DEFAULTS, ...definedOnly(rest) }
    this.onError = onError ?? ((err) => console.warn(`[converge/level] ${err.message}`, err.cause ?? ''))
    this.changes = this.options.changeLog ? new LevelChangeLog(this.db) : undefined
  }

  /** Opens the database (also done lazily by the first operation). */
  async open(): Promise<void> {
    await this.db.open()
  }

  // --- appends ------------------------------------------------------------------

  append(doc: string, update: Uint8Array, meta?: AppendMeta): Promise<void> {
    try {
      this.checkOpen()
      assertDocName(doc)
    } catch (err) {
      return Promise.reject(err)
    }
    const refusal = this.failedTurn.refusal()
    if (refusal !== undefined) return Promise.reject(refusal)
    let batch = this.pending[this.pending.length - 1]
    if (
      batch === undefined ||
      batch.count >= this.options.maxBatchUpdates ||
      batch.bytes >= this.options.maxBatchBytes
    ) {
      batch = newBatch()
      this.pending.push(batch)
    }
    let chunk = batch.docs.get(doc)
    if (chunk === undefined) {
      chunk = new LogChunkWriter()
      batch.docs.set(doc, chunk)
    }
    // Copied now: the caller's bytes may be a view on a buffer it reuses.
    chunk.add(update)
    if (this.changes !== undefined) batch.changes.push({ doc, update: update.slice(), meta })
    batch.count++
    batch.bytes += update.length
    if (this.inFlight === undefined && !this.writeScheduled) {
      this.writeScheduled = true
      onNextTurn(() => this.writePending())
    }
    return batch.done
  }

  /** Writes batches one at a time until none is left; appends made meanwhile fill the next. */
  private async writePending(): Promise<void> {
    this.writeScheduled = false
    if (this.inFlight !== undefined) return
    for (let batch = this.pending.shift(); batch !== undefined; batch = this.pending.shift()) {
      this.inFlight = batch
      await this.writeBatch(batch)
      this.inFlight = undefined
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const ops: BatchOp[] = []
    for (const [doc, chunk] of batch.docs) {
      ops.push({ type: 'put', key: logKey(doc, this.keys.next()), value: chunk.finish(), ...VIEW })
      // Once per document and instance (and again by every compaction, so a document that
      // another instance deleted and this one wrote again is listed again after a while).
      if (!this.indexed.has(doc)) ops.push({ type: 'put', key: indexKey(doc), value: EMPTY, ...VIEW })
    }
    let commitChanges: (() => void) | undefined
    try {
      if (this.changes !== undefined) {
        const changes = await this.changes.opsFor(batch.changes, Date.now())
        ops.push(...changes.ops)
        commitChanges = changes.commit
      }
      await this.write(ops)
    } catch (cause) {
      this.stats.writeErrors++
      batch.reject(
        new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `LevelDB batch of ${batch.count} appends failed`, { cause }),
      )
      // Appends land in order (see Store): those made while this batch was written, and
      // those made before its callers could react, may build on it, so they fail with it.
      for (const later of this.pending.splice(0)) {
        later.reject(new ConvergeError('CONVERGE_STORE_WRITE_FAILED', 'an earlier append failed', { cause }))
      }
      this.failedTurn.fail(cause)
      return
    }
    commitChanges?.()
    this.stats.batches++
    this.stats.appended += batch.count
    for (const [doc, chunk] of batch.docs) {
      this.indexed.add(doc)
      const info = this.info(doc)
      info.logCount += chunk.count
      info.logBytes += chunk.bytes
      info.version++
      this.maybeCompact(doc, info)
    }
    batch.resolve()
  }

  /** Resolves when every append made so far has been written (or has failed). */
  private async written(): Promise<void> {
    const last = this.pending[this.pending.length - 1] ?? this.inFlight
    if (last !== undefined) await last.done.catch(noop)
  }

  // --- reads --------------------------------------------------------------------

  async load(doc: string): Promise<Uint8Array | undefined> {
    this.checkOpen()
    const entries = await this.readDoc(doc)
    if (entries.snapshots.length === 0 && entries.log.length === 0) return undefined
    const { info, log } = this.decodeLog(doc, entries)
    const snapshots = entries.snapshots.map((s) => s.value)
    this.maybeCompact(doc, info)
    return mergeParts([...snapshots, ...log], (err) => this.report(err, `loading ${doc}: an entry does not apply`))
  }

  /**
   * The stored state vector: the snapshot's, as stored beside it, plus the structs of
   * the log; no Y.Doc is built. Cached until the next append.
   */
  async stateVector(doc: string): Promise<Uint8Array> {
    this.checkOpen()
    const info = this.info(doc)
    const version = info.version
    if (info.stateVector?.version === version) return info.stateVector.value
    const entries = await this.readDoc(doc)
    const value = this.stateVectorOf(doc, entries)
    if (info.version === version) info.stateVector = { version, value }
    return value
  }

  private stateVectorOf(doc: string, { snapshots, log, stateVector }: DocEntries): Uint8Array {
    if (snapshots.length === 0 && log.length === 0) return EMPTY_STATE_VECTOR
    const matches = stateVector !== undefined && snapshots.length === 1 && stateVector.snapshotKey === snapshots[0]?.key
    const stored = matches ? stateVector.value : undefined
    if (stored !== undefined && log.length === 0) return stored
    const union = new StateVectorUnion()
    if (stored !== undefined) union.addStateVector(stored)
    else for (const s of snapshots) this.addToUnion(union, doc, s.value)
    for (const entry of log) for (const update of this.readChunk(doc, entry)) this.addToUnion(union, doc, update)
    return union.encode()
  }

  private addToUnion(union: StateVectorUnion, doc: string, update: Uint8Array): void {
    try {
      union.addUpdate(update)
    } catch (err) {
      this.report(err, `state vector of ${doc}: an entry does not decode`)
    }
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
    const keys: string[] = await this.db.keys({ ...indexRange(), ...KEY }).all()
    return keys.map(docOfIndexKey).sort()
  }

  /** Every entry of a document, in one scan (see level-keys.ts for why one scan suffices). */
  private async readDoc(doc: string): Promise<DocEntries> {
    const entries: Array<[string, Uint8Array]> = await this.db.iterator({ ...docRange(doc), ...VIEW }).all()
    const result: DocEntries = { log: [], snapshots: [], stateVector: undefined }
    for (const [key, value = EMPTY] of entries) {
      const kind = kindOfDocKey(doc, key)
      if (kind === 'log') result.log.push({ key, value })
      else if (kind === 'snapshot') result.snapshots.push({ key, value, gen: genOfSnapshotKey(doc, key) })
      else if (kind === 'state-vector') result.stateVector = this.readStateVectorEntry(doc, value)
    }
    return result
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
    const log = entries.log.flatMap((e) => this.readChunk(doc, e, onBad))
    const info = this.info(doc)
    info.logCount = log.length
    info.logBytes = log.reduce((n, u) => n + u.length, 0)
    info.snapshotBytes = sumBytes(entries.snapshots)
    return { info, log }
  }

  private readChunk(
    doc: string,
    entry: { key: string; value: Uint8Array },
    onBad?: (value: Uint8Array) => void,
  ): Uint8Array[] {
    try {
      return readLogChunk(entry.value)
    } catch (err) {
      this.report(err, `${doc}: log entry ${JSON.stringify(entry.key)} does not decode`)
      onBad?.(entry.value)
      return []
    }
  }

  private readStateVectorEntry(doc: string, value: Uint8Array): DocEntries['stateVector'] {
    try {
      const decoder = decoding.createDecoder(value)
      return { snapshotKey: decoding.readVarString(decoder), value: decoding.readVarUint8Array(decoder) }
    } catch (err) {
      this.report(err, `${doc}: the stored state vector does not decode`)
      return undefined
    }
  }

  // --- compaction ---------------------------------------------------------------

  private maybeCompact(doc: string, info: DocInfo): void {
    if (!this.options.autoCompact || this.closing !== undefined) return
    if (this.compactQueue.has(doc) || this.compacting.has(doc)) return
    if (!this.isDue(info)) return
    this.compactQueue.add(doc)
    this.compactWorker ??= this.runCompactions().finally(() => {
      this.compactWorker = undefined
    })
  }

  /** Background compactions, one document at a time, so their pauses never stack up. */
  private async runCompactions(): Promise<void> {
    // Start after the current turn: the batch that triggered us resolves its appends first.
    await nextTurn()
    for (const doc of this.compactQueue) {
      this.compactQueue.delete(doc)
      if (this.closing !== undefined) break
      await this.withDocLock(doc, () => this.compactDoc(doc, true)).catch((err) =>
        this.report(err, `background compaction of ${doc} failed; its log stays and a later compaction retries`),
      )
    }
  }

  private isDue(info: DocInfo): boolean {
    const { compactMinUpdates, compactRatio, compactMaxLogBytes } = this.options
    return (
      info.logBytes >= compactMaxLogBytes ||
      (info.logCount >= compactMinUpdates && info.logBytes >= compactRatio * info.snapshotBytes)
    )
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
    this.compactQueue.delete(doc)
    return this.withDocLock(doc, () => this.compactDoc(doc, false))
  }

  private async compactDoc(doc: string, onlyIfDue: boolean): Promise<void> {
    this.compacting.add(doc)
    try {
      await this.compactOnce(doc, onlyIfDue)
    } finally {
      this.compacting.delete(doc)
    }
    // Appends that arrived meanwhile may have made it due again.
    this.maybeCompact(doc, this.info(doc))
  }

  private async compactOnce(doc: string, onlyIfDue: boolean): Promise<void> {
    const started = performance.now()
    const entries = await this.readDoc(doc)
    const { snapshots } = entries
    // Bytes that do not decode or apply are moved aside, never deleted: nothing is lost,
    // and the document keeps compacting.
    const quarantine: Uint8Array[] = []
    const { info, log } = this.decodeLog(doc, entries, (value) => quarantine.push(value))
    const logBytes = info.logBytes
    if (entries.log.length === 0 && snapshots.length <= 1) return
    if (onlyIfDue && !this.isDue(info)) {
      this.stats.compactionsSkipped++
      return
    }
    const onBad = (err: unknown, part: Uint8Array) => {
      this.report(err, `compacting ${doc}: an entry does not apply; it is kept aside`)
      quarantine.push(part)
    }
    const ydoc = new Y.Doc({ gc: this.options.gc })
    let encoded: [update: Uint8Array, stateVector: Uint8Array]
    try {
      this.timed(() =>
        applyParts(
          ydoc,
          snapshots.map((s) => s.value),
          onBad,
        ),
      )
      for (let i = 0; i < log.length; i += COMPACTION_SLICE) {
        await nextTurn()
        if (this.closing !== undefined) return
        this.timed(() => applyParts(ydoc, log.slice(i, i + COMPACTION_SLICE), onBad))
      }
      await nextTurn()
      if (this.closing !== undefined) return
      encoded = this.timed(() => [Y.encodeStateAsUpdate(ydoc), Y.encodeStateVector(ydoc)])
    } finally {
      ydoc.destroy()
    }
    const [merged, stateVector] = encoded
    const meta = await this.writeSnapshot(doc, entries, merged, stateVector, quarantine, log.length, 'compaction')
    this.stats.compactions++
    // Appends that landed during the compaction stay counted.
    info.logCount = Math.max(0, info.logCount - log.length)
    info.logBytes = Math.max(0, info.logBytes - logBytes)
    info.snapshotBytes = merged.length
    info.deletedBytes += sumBytes(entries.log) + sumBytes(snapshots)
    this.stats.compactionMs += performance.now() - started
    // An explicit compaction gives the space back now; background ones once it is worth a
    // rewrite of the range (LevelDB rewrites the live data of the range too).
    const { reclaimAfterBytes } = this.options
    const worth = onlyIfDue
      ? reclaimAfterBytes > 0 && info.deletedBytes >= Math.max(reclaimAfterBytes, 2 * info.snapshotBytes)
      : info.deletedBytes > 0
    if (worth) await this.reclaim(doc, info, meta)
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
      await this.write(ops)
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
    this.compactQueue.delete(doc)
    let setAside = 0
    return this.withDocLock(doc, async () => {
      const entries = await this.readDoc(doc)
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

  /**
   * Asks LevelDB to compact the document's range, dropping the entries compactions deleted.
   * LevelDB drops them only when it merges files of two levels: a range whose entries all
   * sit in one level (a memtable flushed straight to level 2, as happens on a young
   * database) keeps them. So it compacts, rewrites one small entry into the range (now
   * above that level), and compacts again, which merges the two.
   */
  private async reclaim(doc: string, info: DocInfo, meta: object): Promise<void> {
    const db = this.db as AnyLevel & { compactRange?: (gte: string, lt: string, o: object) => Promise<void> }
    if (typeof db.compactRange !== 'function') return
    info.deletedBytes = 0
    const { gte, lt } = docRange(doc)
    await db.compactRange(gte, lt, KEY)
    await db.put(metaKey(doc), meta, JSON_VALUE)
    await db.compactRange(gte, lt, KEY)
    this.stats.reclaims++
  }

  /** Runs a synchronous step of a compaction and records how long it held the event loop. */
  private timed<T>(step: () => T): T {
    const started = performance.now()
    try {
      return step()
    } finally {
      const ms = performance.now() - started
      if (ms > this.stats.longestCompactionStepMs) this.stats.longestCompactionStepMs = ms
    }
  }

  // --- removal and lifecycle ----------------------------------------------------

  async delete(doc: string): Promise<void> {
    this.checkOpen()
    // Appends made before the call are part of what is deleted.
    await this.written()
    this.compactQueue.delete(doc)
    await this.withDocLock(doc, async () => {
      const keys: string[] = await this.db.keys({ ...docRange(doc), ...KEY }).all()
      try {
        await this.write([indexKey(doc), ...keys].map((key): BatchOp => ({ type: 'del', key, ...KEY })))
      } catch (cause) {
        this.stats.writeErrors++
        throw new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `deleting ${doc} failed`, { cause })
      }
      this.indexed.delete(doc)
      const info = this.info(doc)
      this.docs.set(doc, { logCount: 0, logBytes: 0, snapshotBytes: 0, deletedBytes: 0, version: info.version + 1 })
    })
  }

  /** Writes what is queued, stops compactions (a running one stops at its next step), and closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.written()
      this.compactQueue.clear()
      await Promise.allSettled([this.compactWorker, ...this.docLocks.values()])
      await this.db.close()
    })()
    return this.closing
  }

  /** One atomic LevelDB batch, fsynced when the `sync` option says so. */
  private async write(ops: BatchOp[]): Promise<void> {
    // A chained batch: abstract-level's array form copies and re-checks every operation
    // object, which costs about a fifth more per entry.
    const batch = this.db.batch()
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value, op)
        else batch.del(op.key, op)
      }
    } catch (err) {
      await batch.close()
      throw err
    }
    await batch.write({ sync: this.options.sync } as object)
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
    if (this.closing !== undefined) throw new ConvergeError('CONVERGE_STORE_CLOSED', 'store is closed')
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

const newBatch = (): Batch => {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const done = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { docs: new Map(), changes: [], count: 0, bytes: 0, done, resolve, reject }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))
