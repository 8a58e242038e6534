/**
 * The key layout of a LevelStore. Every key is a UTF-8 string; U+0000 separates parts
 * (document names never contain it), so each document's keys form one contiguous range
 * that a single iterator reads.
 *
 *   i\0<doc>                      index entry (empty value); `list()` scans this prefix
 *   d\0<doc>\0l\0<writeKey>       the update log: one entry per group commit, holding every
 *                                 update of the document in that batch, in append order
 *   d\0<doc>\0m                   metadata: JSON { snapshotBytes, mergedUpdates, compactedAt }
 *   d\0<doc>\0s\0<gen><writeKey>  the merged snapshot (one, or briefly more: see compaction)
 *   d\0<doc>\0v                   state vector of the snapshot, tagged with the snapshot's key
 *   d\0<doc>\0x\0<writeKey>       an entry compaction could not decode or apply, kept aside
 *                                 (never loaded, removed with the document)
 *
 * Inside a document's range the log sorts before the snapshots, and a compaction writes
 * its snapshot with a generation above every snapshot it merged. So a forward scan that
 * runs while a compaction commits (IndexedDB iterators have no snapshot isolation) finds
 * each update either in a log entry not yet deleted or in a snapshot still ahead of it.
 *
 * A writeKey is unique per write across store instances: the instance's start time and a
 * random id, then a counter (see `WriteKeys`). Two tabs writing one IndexedDB never
 * overwrite each other's entries.
 */
const SEP = '\u0000'
const NEXT = '\u0001'

/** Width of the generation counter in a snapshot key, in hex digits. */
const GEN_WIDTH = 8

export const indexKey = (doc: string) => `i${SEP}${doc}`
export const docPrefix = (doc: string) => `d${SEP}${doc}${SEP}`
export const logKey = (doc: string, writeKey: string) => `${docPrefix(doc)}l${SEP}${writeKey}`
export const metaKey = (doc: string) => `${docPrefix(doc)}m`
export const snapshotKey = (doc: string, gen: number, writeKey: string) =>
  `${docPrefix(doc)}s${SEP}${gen.toString(16).padStart(GEN_WIDTH, '0')}${writeKey}`
export const stateVectorKey = (doc: string) => `${docPrefix(doc)}v`
export const quarantineKey = (doc: string, writeKey: string) => `${docPrefix(doc)}x${SEP}${writeKey}`

/** The range of every key that starts with `prefix` (which ends with U+0000). */
export const range = (prefix: string) => ({ gte: prefix, lt: `${prefix.slice(0, -1)}${NEXT}` })

export const indexRange = () => range(`i${SEP}`)
/** Every key of one document except its index entry. */
export const docRange = (doc: string) => range(docPrefix(doc))

export const docOfIndexKey = (key: string) => key.slice(2)

/** What a key inside `docRange(doc)` holds. */
export type DocKeyKind = 'log' | 'meta' | 'snapshot' | 'state-vector' | 'quarantine' | 'unknown'

export const kindOfDocKey = (doc: string, key: string): DocKeyKind => {
  const tag = key.charAt(docPrefix(doc).length)
  if (tag === 'l') return 'log'
  if (tag === 's') return 'snapshot'
  if (tag === 'v') return 'state-vector'
  if (tag === 'm') return 'meta'
  if (tag === 'x') return 'quarantine'
  return 'unknown'
}

/** The generation of a snapshot key made by `snapshotKey`. */
export const genOfSnapshotKey = (doc: string, key: string): number => {
  const start = docPrefix(doc).length + 2
  const gen = Number.parseInt(key.slice(start, start + GEN_WIDTH), 16)
  return Number.isFinite(gen) ? gen : 0
}

/** Makes write keys that sort in write order within an instance and never collide across instances. */
export class WriteKeys {
  private readonly prefix: string
  private counter = 0

  constructor(now = Date.now(), random = Math.random) {
    const id = Math.floor(random() * 0xffffff)
    this.prefix = now.toString(16).padStart(12, '0') + id.toString(16).padStart(6, '0')
  }

  next(): string {
    return this.prefix + (this.counter++).toString(16).padStart(10, '0')
  }
}
