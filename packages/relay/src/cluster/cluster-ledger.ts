import type { AnyLevel } from '@converge/level'

/**
 * What a relay remembers about the cluster between runs, per document: the last stream
 * sequence its copy holds (catch-up resumes after it), and whether it has durable updates
 * that JetStream has not acknowledged (republished when NATS is back). Bounded: two small
 * keys per document, however long NATS stays away.
 */
export interface ClusterLedger {
  /** The stream sequence through which this relay's copy of `doc` holds every update; 0 if none. */
  sequence(doc: string): Promise<number>
  setSequence(doc: string, seq: number): Promise<void>
  /** Documents marked as holding updates JetStream has not acknowledged. */
  unpublished(): Promise<string[]>
  markUnpublished(doc: string): Promise<void>
  clearUnpublished(doc: string): Promise<void>
}

const SEQ = 'seq:'
const UNPUBLISHED = 'unpublished:'

/** The ledger in a sublevel of the relay's LevelDB, beside its documents (which it never touches). */
export class LevelClusterLedger implements ClusterLedger {
  private readonly db: AnyLevel

  constructor(parent: AnyLevel) {
    this.db = parent.sublevel('converge-nats', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  }

  async sequence(doc: string): Promise<number> {
    const value = (await this.db.get(SEQ + doc)) as string | undefined
    const seq = value === undefined ? 0 : Number(value)
    return Number.isSafeInteger(seq) && seq > 0 ? seq : 0
  }

  async setSequence(doc: string, seq: number): Promise<void> {
    await this.db.put(SEQ + doc, String(seq))
  }

  async unpublished(): Promise<string[]> {
    const docs: string[] = []
    for await (const key of this.db.keys({ gte: UNPUBLISHED, lt: `${UNPUBLISHED}\uffff` })) {
      docs.push((key as string).slice(UNPUBLISHED.length))
    }
    return docs
  }

  async markUnpublished(doc: string): Promise<void> {
    await this.db.put(UNPUBLISHED + doc, '')
  }

  async clearUnpublished(doc: string): Promise<void> {
    await this.db.del(UNPUBLISHED + doc)
  }
}

/** The ledger in memory, for a relay on a custom store: it forgets on restart (catch-up starts over). */
export class MemoryClusterLedger implements ClusterLedger {
  private readonly seqs = new Map<string, number>()
  private readonly marks = new Set<string>()

  async sequence(doc: string): Promise<number> {
    return this.seqs.get(doc) ?? 0
  }

  async setSequence(doc: string, seq: number): Promise<void> {
    this.seqs.set(doc, seq)
  }

  async unpublished(): Promise<string[]> {
    return [...this.marks]
  }

  async markUnpublished(doc: string): Promise<void> {
    this.marks.add(doc)
  }

  async clearUnpublished(doc: string): Promise<void> {
    this.marks.delete(doc)
  }
}
