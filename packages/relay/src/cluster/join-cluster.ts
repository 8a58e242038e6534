import type { Store } from '@converge/core'
import { LevelStore } from '@converge/level'
import type { Logger } from 'pino'
import { type ClusterLedger, LevelClusterLedger, MemoryClusterLedger } from './cluster-ledger.js'
import { ClusterStore } from './cluster-store.js'
import { NatsCluster } from './nats-cluster.js'
import type { NatsClusterOptions } from './nats-options.js'

/**
 * Puts a relay's store into a cluster on NATS: the store the replica uses (reads catch up,
 * appends publish) and the cluster to attach to the replica. The ledger lives in the
 * relay's LevelDB; a custom store gets one in memory.
 */
export const joinCluster = (
  options: NatsClusterOptions,
  store: Store,
  log: Logger,
): { cluster: NatsCluster; store: ClusterStore } => {
  const ledger: ClusterLedger =
    store instanceof LevelStore ? new LevelClusterLedger(store.db) : new MemoryClusterLedger()
  const cluster = new NatsCluster(options, store, ledger, log)
  return { cluster, store: new ClusterStore(store, cluster) }
}
