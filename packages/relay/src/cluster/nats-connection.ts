import { readFileSync } from 'node:fs'
import { DiscardPolicy, jetstreamManager, StorageType } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { Objm } from '@nats-io/obj'
import { type ConnectionOptions, credsAuthenticator, type NatsConnection, nanos } from '@nats-io/transport-node'
import type { ResolvedNatsOptions } from './nats-options.js'
import { KV_PAYLOAD_MARGIN, SnapshotBucket } from './nats-snapshots.js'
import type { ClusterSubjects } from './nats-subjects.js'

/** nats-server's `max_payload` when the server does not say (its default, 1 MiB). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024

/** How a relay connects to NATS: credentials, TLS, and reconnecting forever. */
export const natsConnectionOptions = (o: ResolvedNatsOptions, name: string): ConnectionOptions => ({
  servers: o.servers,
  user: o.user,
  pass: o.pass,
  authenticator: o.credsFile === undefined ? undefined : credsAuthenticator(readFileSync(o.credsFile)),
  tls:
    o.tlsCa !== undefined || o.tlsCert !== undefined
      ? { caFile: o.tlsCa, certFile: o.tlsCert, keyFile: o.tlsKey }
      : undefined,
  name,
  // A relay's presence messages must not come back to it.
  noEcho: true,
  // A relay starts and serves without NATS; it connects when it can.
  waitOnFirstConnect: true,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 500,
  // A dead server is noticed within ~10 s.
  pingInterval: 5_000,
  maxPingOut: 2,
})

/**
 * Creates the stream of updates, the snapshot bucket and the object store of large
 * snapshots unless they exist (the first relay to connect does; an existing stream is
 * left as its operator configured it), and opens the bucket and the object store. Snapshots
 * whose KV value would not fit in one message of this server go to the object store.
 */
export const ensureStreamAndBucket = async (
  nc: NatsConnection,
  o: ResolvedNatsOptions,
  subjects: ClusterSubjects,
): Promise<SnapshotBucket> => {
  const jsm = await jetstreamManager(nc, { timeout: o.publishTimeout })
  const exists = await jsm.streams.info(o.stream).then(
    () => true,
    () => false,
  )
  if (!exists) {
    await jsm.streams
      .add({
        name: o.stream,
        subjects: [subjects.allUpdates],
        storage: StorageType.File,
        num_replicas: o.replicas,
        max_age: o.retention > 0 ? nanos(o.retention) : 0,
        duplicate_window: nanos(o.duplicateWindow),
        discard: DiscardPolicy.Old,
      })
      .catch(async (err) => {
        // Another relay created it meanwhile.
        await jsm.streams.info(o.stream).catch(() => {
          throw err
        })
      })
  }
  const kv = await new Kvm(nc).create(o.snapshotBucket, { replicas: o.replicas, history: 1 })
  const objects = await new Objm(nc).create(o.snapshotObjects, { replicas: o.replicas, storage: StorageType.File })
  const maxPayload = nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD
  return new SnapshotBucket(kv, objects, Math.max(0, maxPayload - KV_PAYLOAD_MARGIN))
}
