import * as Y from 'yjs'
import type { AppendMeta } from './change-log.js'
import { assertDocName } from './doc-name.js'
import { ConvergeError } from './errors.js'
import { FailedTurn } from './failed-turn.js'
import { MemoryChangeLog } from './memory-change-log.js'
import { onNextTurn } from './next-turn.js'
import { digestOfUpdate, EMPTY_STATE_VECTOR, EMPTY_UPDATE } from './state-digest.js'
import type { Store, StoreStats } from './store.js'
import { rebuildFromParts } from './stored-doc.js'

export interface MemoryStoreOptions {
  /**
   * Flush queued appends at the next turn of the event loop (true, the default) or only when `flush()` is called
   * (false), which lets tests decide when writes become durable.
   */
  autoFlush?: boolean
  /** Keep a change log (see change-log.ts): every append gets a sequence number. Default false. */
  changeLog?: boolean
}

interface StoredDoc {
  snapshot: Uint8Array | undefined
  log: Uint8Array[]
  /** Cached merged state, dropped on every write. */
  merged: Uint8Array | undefined
  /** Parts `repair` set aside. */
  quarantined?: Uint8Array[]
}

interface PendingAppend {
  doc: string
  update: Uint8Array
  meta: AppendMeta | undefined
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * A Store in memory: for tests, and for replicas that need no persistence. Appends are
 * group-committed like the LevelDB store's, and `crash()` drops the ones not yet
 * flushed, as a killed process would.
 */
export class MemoryStore implements Store {
  readonly stats: StoreStats = { appended: 0, batches: 0, writeErrors: 0, compactions: 0 }
  private readonly docs: Map<string, StoredDoc>
  private pending: PendingAppend[] = []
  private flushScheduled = false
  private closed = false
  private failNext: unknown
  private readonly failedTurn = new FailedTurn()
  private readonly autoFlush: boolean
  readonly changes: MemoryChangeLog | undefined

  constructor(
    options: MemoryStoreOptions = {},
    durable = new Map<string, StoredDoc>(),
    changes = options.changeLog ? new MemoryChangeLog() : undefined,
  ) {
    this.autoFlush = options.autoFlush ?? true
    this.docs = durable
    this.changes = changes
  }

  /**
   * A new store over the same durable data, as after a process restart: appends not yet
   * flushed are lost (their promises never settle), everything flushed is there.
   */
  restart(options: MemoryStoreOptions = { autoFlush: this.autoFlush }): MemoryStore {
    this.crash()
    this.closed = true
    return new MemoryStore(options, this.docs, this.changes)
  }

  async load(doc: string): Promise<Uint8Array | undefined> {
    this.check()
    return this.merged(doc)
  }

  append(doc: string, update: Uint8Array, meta?: AppendMeta): Promise<void> {
    try {
      this.check()
      assertDocName(doc)
    } catch (err) {
      return Promise.reject(err)
    }
    const refusal = this.failedTurn.refusal()
    if (refusal !== undefined) return Promise.reject(refusal)
    return new Promise((resolve, reject) => {
      // Copy: the caller's bytes may be a view on a reused network buffer.
      this.pending.push({ doc, update: update.slice(), meta, resolve, reject })
      if (this.autoFlush && !this.flushScheduled) {
        this.flushScheduled = true
        onNextTurn(() => this.flush())
      }
    })
  }

  /** Makes every queued append durable (or fails them all, see `failNextFlush`). */
  flush(): void {
    this.flushScheduled = false
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    if (this.failNext !== undefined) {
      const cause = this.failNext
      this.failNext = undefined
      this.stats.writeErrors++
      const err = new ConvergeError('CONVERGE_STORE_WRITE_FAILED', 'memory store write failed', { cause })
      for (const p of batch) p.reject(err)
      this.failedTurn.fail(cause)
      return
    }
    const now = Date.now()
    for (const p of batch) {
      const d = this.entry(p.doc)
      d.log.push(p.update)
      d.merged = undefined
      this.changes?.add(p.doc, p.update, p.meta, now)
    }
    this.changes?.notify()
    this.stats.batches++
    this.stats.appended += batch.length
    for (const p of batch) p.resolve()
  }

  /** The next flush fails with `cause`, rejecting every append it holds. */
  failNextFlush(cause: unknown = new Error('injected write failure')): void {
    this.failNext = cause
  }

  /** Drops appends not yet flushed, as if the process died; their promises never settle. */
  crash(): void {
    this.pending = []
    this.flushScheduled = false
  }

  /** Number of appends waiting for a flush. */
  get pendingCount(): number {
    return this.pending.length
  }

  async stateVector(doc: string): Promise<Uint8Array> {
    this.check()
    const merged = this.merged(doc)
    return merged === undefined ? EMPTY_STATE_VECTOR : Y.encodeStateVectorFromUpdate(merged)
  }

  async digest(doc: string): Promise<Uint8Array> {
    this.check()
    return digestOfUpdate(this.merged(doc) ?? EMPTY_UPDATE)
  }

  async compact(doc: string): Promise<void> {
    this.check()
    const d = this.docs.get(doc)
    if (d === undefined || d.log.length === 0) return
    const merged = this.merged(doc) as Uint8Array
    d.snapshot = merged
    d.log = []
    this.stats.compactions++
  }

  async repair(doc: string, check: (ydoc: Y.Doc, part: Uint8Array) => void): Promise<number> {
    this.check()
    const d = this.docs.get(doc)
    if (d === undefined) return 0
    const { update, bad } = rebuildFromParts(d.snapshot === undefined ? d.log : [d.snapshot, ...d.log], check)
    d.snapshot = update
    d.log = []
    d.merged = undefined
    if (bad.length > 0) d.quarantined = [...(d.quarantined ?? []), ...bad]
    return bad.length
  }

  /** The parts `repair` set aside for `doc`. */
  quarantined(doc: string): Uint8Array[] {
    return this.docs.get(doc)?.quarantined ?? []
  }

  async list(): Promise<string[]> {
    this.check()
    return [...this.docs.keys()].sort()
  }

  async delete(doc: string): Promise<void> {
    this.check()
    this.docs.delete(doc)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.flush()
    this.closed = true
  }

  private check(): void {
    if (this.closed) throw new ConvergeError('CONVERGE_STORE_CLOSED', 'store is closed')
  }

  private entry(doc: string): StoredDoc {
    let d = this.docs.get(doc)
    if (d === undefined) {
      d = { snapshot: undefined, log: [], merged: undefined }
      this.docs.set(doc, d)
    }
    return d
  }

  private merged(doc: string): Uint8Array | undefined {
    const d = this.docs.get(doc)
    if (d === undefined) return undefined
    if (d.merged === undefined) {
      const parts = d.snapshot === undefined ? d.log : [d.snapshot, ...d.log]
      d.merged = parts.length === 1 ? (parts[0] as Uint8Array) : Y.mergeUpdates(parts)
    }
    return d.merged
  }
}
