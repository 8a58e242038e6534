/**
 * The key layout of a LevelStore. Every key is a UTF-8 string; U+0000 separates parts
 * (document names never contain it), so one document's keys form a contiguous range.
 *
 *   d\0<doc>               index entry: JSON { created }; listing scans this prefix
 *   m\0<doc>               metadata: JSON { snapshotBytes, compactedAt }
 *   v\0<doc>               state vector of the snapshot (Yjs encoding)
 *   s\0<doc>\0<writeKey>   the merged snapshot (one, or briefly more: see compaction)
 *   l\0<doc>\0<writeKey>   the update log, one Yjs update per key, in append order
 *
 * A writeKey is unique per write across store instances: the instance's start time and
 * random id, then a counter (see `WriteKeys`). Two tabs writing one IndexedDB never
 * overwrite each other's entries.
 */
const SEP = '\u0000'
const NEXT = '\u0001'

export const indexKey = (doc: string) => `d${SEP}${doc}`
export const metaKey = (doc: string) => `m${SEP}${doc}`
export const stateVectorKey = (doc: string) => `v${SEP}${doc}`
export const snapshotKey = (doc: string, writeKey: string) => `s${SEP}${doc}${SEP}${writeKey}`
export const logKey = (doc: string, writeKey: string) => `l${SEP}${doc}${SEP}${writeKey}`

/** The range of every key with the given prefix. */
export const range = (prefix: string) => ({ gte: prefix, lt: `${prefix.slice(0, -1)}${NEXT}` })

export const indexRange = () => range(`d${SEP}`)
export const snapshotRange = (doc: string) => range(`s${SEP}${doc}${SEP}`)
export const logRange = (doc: string) => range(`l${SEP}${doc}${SEP}`)

export const docOfIndexKey = (key: string) => key.slice(2)

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
