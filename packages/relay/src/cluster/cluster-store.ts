import type { AppendMeta, ChangeLog, Store, StoreStats } from '@converge/core'
import type { NatsCluster } from './nats-cluster.js'

/**
 * The relay's store as seen through the cluster: reading a document first catches its
 * local copy up with the stream, and every append that did not come from the stream is
 * published once it is durable here. Everything else is the local store's.
 */
export class ClusterStore implements Store {
  constructor(
    readonly inner: Store,
    private readonly cluster: NatsCluster,
  ) {}

  /** The local store's change log (the relay's change feed), if it keeps one. */
  get changes(): ChangeLog | undefined {
    return this.inner.changes
  }

  /** The local store's counters (for the relay's metrics). */
  get stats(): StoreStats | undefined {
    return (this.inner as { stats?: StoreStats }).stats
  }

  async load(doc: string): Promise<Uint8Array | undefined> {
    await this.cluster.catchUp(doc)
    return this.inner.load(doc)
  }

  append(doc: string, update: Uint8Array, meta?: AppendMeta): Promise<void> {
    return this.cluster.append(doc, update, meta)
  }

  unloaded(doc: string): void {
    this.inner.unloaded?.(doc)
  }

  stateVector(doc: string): Promise<Uint8Array> {
    return this.inner.stateVector(doc)
  }

  digest(doc: string): Promise<Uint8Array> {
    return this.inner.digest(doc)
  }

  compact(doc: string): Promise<void> {
    return this.inner.compact(doc)
  }

  list(): Promise<string[]> {
    return this.inner.list()
  }

  async delete(doc: string): Promise<void> {
    await this.cluster.forget(doc)
    await this.inner.delete(doc)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
