/** How a relay joins a cluster on NATS JetStream (`converge relay --nats URL`). */
export interface NatsClusterOptions {
  /** NATS server URLs (nats://host:4222); the client learns the rest of the cluster from them. */
  servers: string[]
  /** User and password, if the servers require them. */
  user?: string
  pass?: string
  /** A NATS credentials file (JWT + NKey seed), if the servers use decentralized auth. */
  credsFile?: string
  /** CA certificate (PEM file) to verify the servers with: connects with TLS. */
  tlsCa?: string
  /** Client certificate and key (PEM files), for servers that verify clients. */
  tlsCert?: string
  tlsKey?: string
  /**
   * What a client's `saved` means: 'replicated' (default) once the update is durable in this
   * relay's LevelDB and JetStream acknowledged it; 'local' once it is durable in LevelDB
   * (JetStream gets it right after, or when NATS is back).
   */
  saved?: NatsSavedMode
  /** The JetStream stream of updates. Default 'CONVERGE_UPDATES'. */
  stream?: string
  /** The KV bucket of document snapshots. Default 'CONVERGE_SNAPSHOTS'. */
  snapshotBucket?: string
  /**
   * The object store of snapshots too big for one NATS message (the server's `max_payload`,
   * 1 MiB by default); the KV bucket then names the object. Default 'CONVERGE_SNAPSHOT_OBJECTS'.
   */
  snapshotObjects?: string
  /** First token of every subject. Default 'converge' (updates: converge.doc.<doc>, presence: converge.aw.<doc>). */
  subjectPrefix?: string
  /** Replicas of the stream and the bucket when this relay creates them (1 or 3; at most the NATS nodes). Default 1. */
  replicas?: number
  /**
   * How long the stream keeps updates, in ms; 0 (the default) keeps them forever. Snapshots
   * are written every `snapshotEvery` updates of a document and when a relay unloads it, so
   * a finite retention is safe only when every document is snapshotted within it: an update
   * written just before its relay died for good is in no snapshot until some relay loads
   * and unloads that document again (see the README).
   */
  retention?: number
  /** Updates of a document between two snapshots. Default 1_000. */
  snapshotEvery?: number
  /** Longest wait for a document's catch-up when it loads, in ms; past it the local copy is served. Default 5_000. */
  catchupTimeout?: number
  /** Longest wait for JetStream to acknowledge a publish, in ms. Default 5_000. */
  publishTimeout?: number
  /** Delay between retries of documents whose publish failed, in ms. Default 1_000. */
  retryInterval?: number
  /** JetStream's de-duplication window of message ids, in ms. Default 120_000. */
  duplicateWindow?: number
}

export type NatsSavedMode = 'replicated' | 'local'

export const NATS_DEFAULTS = {
  saved: 'replicated' as NatsSavedMode,
  stream: 'CONVERGE_UPDATES',
  snapshotBucket: 'CONVERGE_SNAPSHOTS',
  snapshotObjects: 'CONVERGE_SNAPSHOT_OBJECTS',
  subjectPrefix: 'converge',
  replicas: 1,
  retention: 0,
  snapshotEvery: 1_000,
  catchupTimeout: 5_000,
  publishTimeout: 5_000,
  retryInterval: 1_000,
  duplicateWindow: 120_000,
}

export type ResolvedNatsOptions = NatsClusterOptions & typeof NATS_DEFAULTS
