/**
 * A relay's optional services: each exists only when its option asks for it (the change
 * feed with a change log, webhooks with targets, the admin API with a token, the cluster
 * with `nats`, /metrics on its own address with `metricsListen`), and the mesh token. Built in one place; the relay stops them in its shutdown order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Replica, Store } from '@converge/core'
import { LevelStore } from '@converge/level'
import type { Logger } from 'pino'
import { AdminApi, sendJson } from './admin-api.js'
import { ChangeFeed } from './change-feed.js'
import { DEFAULT_CHANGE_KEEP_ALIVE, serveChanges } from './changes-api.js'
import type { NatsCluster } from './cluster/nats-cluster.js'
import { MetricsListener } from './metrics-listener.js'
import { PeerTokens } from './peer-tokens.js'
import type { RelayExtensions } from './relay-extensions.js'
import type { RelayMetrics } from './relay-metrics.js'
import type { RelayOptions } from './relay-options.js'
import type { RevocationList } from './revocations.js'
import { LevelDeliveryStore, MemoryDeliveryStore } from './webhook-deliveries.js'
import { WebhookQueue } from './webhook-queue.js'
import { parseWebhookSpec, Webhooks } from './webhooks.js'

export interface RelayServices {
  /** The NATS cluster this relay belongs to, with `nats`. */
  readonly cluster: NatsCluster | undefined
  /** The change feed, when the store keeps a change log. */
  readonly feed: ChangeFeed | undefined
  /** Webhook deliveries, when webhooks are configured. */
  readonly webhooks: Webhooks | undefined
  readonly webhookQueue: WebhookQueue | undefined
  /** The admin API, with `adminToken`. */
  readonly admin: AdminApi | undefined
  /** /metrics on its own address, with `metricsListen`. */
  readonly metricsListener: MetricsListener | undefined
  /** The token the mesh links this relay dials present (`peerToken`, `peerTokenFile`). */
  readonly peerTokens: PeerTokens
}

export interface ServiceParts {
  readonly options: RelayOptions & { maxAdminBodyBytes: number }
  readonly store: Store
  readonly replica: Replica
  readonly ext: RelayExtensions
  readonly metrics: RelayMetrics
  readonly log: Logger
  readonly revocations: RevocationList
  readonly cluster: NatsCluster | undefined
}

/** Makes the services the options ask for (the cluster is joined before, in Relay.start). */
export const relayServices = (parts: ServiceParts): RelayServices => {
  const { options, store, replica, ext, metrics, log, revocations, cluster } = parts
  const feed =
    store.changes === undefined
      ? undefined
      : new ChangeFeed(store.changes, options, (err) => log.error({ err }, 'change feed retention failed'))
  const changesRoute = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path !== '/api/changes' || req.method !== 'GET') return false
    if (feed === undefined) sendJson(res, 404, { error: 'this relay keeps no change feed' })
    else await serveChanges(feed, req, res, options.changeKeepAlive ?? DEFAULT_CHANGE_KEEP_ALIVE)
    return true
  }
  let webhookQueue: WebhookQueue | undefined
  let webhooks: Webhooks | undefined
  const targets = (options.webhooks ?? []).map((w) => (typeof w === 'string' ? parseWebhookSpec(w) : w))
  if (targets.length > 0) {
    const deliveries = store instanceof LevelStore ? new LevelDeliveryStore(store.db) : new MemoryDeliveryStore()
    webhookQueue = new WebhookQueue(deliveries, options, metrics.registry, log)
    const hooks = new Webhooks(targets, webhookQueue, (err) => log.error({ err }, 'queueing a webhook failed'))
    ext.onDocument((doc, what) => (what === 'changed' ? hooks.changed(doc) : hooks.deleted(doc)))
    ext.onSettled((p) => hooks.settled(p))
    webhooks = hooks
  }
  const routes = webhooks === undefined ? [changesRoute] : [changesRoute, webhooks.route]
  const admin = options.adminToken
    ? new AdminApi(replica, options.adminToken, routes, { maxBodyBytes: options.maxAdminBodyBytes, revocations })
    : undefined
  const metricsListener =
    options.metricsListen === undefined
      ? undefined
      : new MetricsListener(options.metricsListen, options.metricsToken, metrics)
  return { cluster, feed, webhooks, webhookQueue, admin, metricsListener, peerTokens: new PeerTokens(options) }
}
