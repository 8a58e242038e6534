import type { ChangeLog, ChangeRetention, StoredChange } from '@converge/core'
import { compileDocPattern } from './doc-pattern.js'

/** One record of the change feed, as the HTTP API and `relay.changes()` give it. */
export interface ChangeRecord {
  seq: number
  doc: string
  /** The Yjs update (V1), base64. */
  update: string
  /** The relay's state vector of the document once the update applied, base64. */
  stateVector: string
  /** The user of the connection it came from (see onAuthenticate), when known. */
  who?: string
  /** When it became durable, ms since the epoch. */
  time: number
}

export interface ChangesQuery {
  /** Records with a sequence number above this (default 0: from the oldest kept). */
  since?: number
  /** Only documents matching this pattern (see doc-pattern.ts). Default: every document. */
  docs?: string
  /** Keep waiting for new records once caught up (default true); false ends at the latest. */
  follow?: boolean
  /** Ends the iteration. */
  signal?: AbortSignal
}

/** A cursor older than the retention window: records after it are gone. */
export class ChangesGoneError extends Error {
  readonly oldest: number
  constructor(since: number, oldest: number) {
    super(`records after ${since} are no longer kept; the oldest available is ${oldest}`)
    this.name = 'ChangesGoneError'
    this.oldest = oldest
  }
}

export interface ChangeFeedOptions {
  /** Keep records this long, in ms. Default 7 days. */
  changeRetentionMs?: number
  /** Keep at most this many bytes of records. Default 256 MiB. */
  changeRetentionBytes?: number
  /** How often the retention runs, in ms. Default 60_000. */
  changeTrimInterval?: number
}

export const CHANGE_FEED_DEFAULTS = {
  changeRetentionMs: 7 * 24 * 3600_000,
  changeRetentionBytes: 256 * 1024 * 1024,
  changeTrimInterval: 60_000,
}

/** Records read from the store at a time. */
const PAGE = 500

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

export const toRecord = (c: StoredChange): ChangeRecord => ({
  seq: c.seq,
  doc: c.doc,
  update: base64(c.update),
  stateVector: base64(c.stateVector),
  ...(c.who === undefined ? {} : { who: c.who }),
  time: c.time,
})

/** The relay's change feed over its store's change log, with the retention that trims it. */
export class ChangeFeed {
  readonly log: ChangeLog
  private readonly retention: ChangeRetention
  private readonly trimmer: ReturnType<typeof setInterval>
  private trimming: Promise<unknown> | undefined

  constructor(log: ChangeLog, options: ChangeFeedOptions, onError: (err: unknown) => void) {
    this.log = log
    const o = { ...CHANGE_FEED_DEFAULTS, ...options }
    this.retention = { maxAgeMs: o.changeRetentionMs, maxBytes: o.changeRetentionBytes }
    this.trimmer = setInterval(() => {
      this.trimming ??= this.trim()
        .catch(onError)
        .finally(() => {
          this.trimming = undefined
        })
    }, o.changeTrimInterval)
    this.trimmer.unref()
  }

  /** Applies the retention now; resolves with the number of records dropped. */
  trim(): Promise<number> {
    return this.log.trim(this.retention)
  }

  /**
   * The records after `since`, oldest first; with `follow`, waits for new ones until the
   * signal aborts. Throws ChangesGoneError when records after `since` were trimmed.
   */
  async *changes(query: ChangesQuery = {}): AsyncGenerator<StoredChange> {
    let since = query.since ?? 0
    const pattern = query.docs === undefined ? undefined : compileDocPattern(query.docs)
    const follow = query.follow ?? true
    const { oldest } = await this.log.bounds()
    if (since < oldest - 1 && since > 0) throw new ChangesGoneError(since, oldest)
    let wake: (() => void) | undefined
    const unwatch = this.log.watch(() => wake?.())
    const onAbort = () => wake?.()
    query.signal?.addEventListener('abort', onAbort)
    try {
      while (!query.signal?.aborted) {
        // Armed before reading, so a write that lands during the read is not missed.
        const written = new Promise<void>((resolve) => {
          wake = resolve
        })
        const page = await this.log.read(since, PAGE)
        const first = page[0]
        if (first !== undefined && first.seq > since + 1 && since > 0) throw new ChangesGoneError(since, first.seq)
        for (const change of page) {
          since = change.seq
          if (pattern === undefined || pattern.test(change.doc)) yield change
          if (query.signal?.aborted) return
        }
        if (page.length === PAGE) continue
        if (!follow) return
        await written
      }
    } finally {
      unwatch()
      query.signal?.removeEventListener('abort', onAbort)
    }
  }

  close(): void {
    clearInterval(this.trimmer)
  }
}
