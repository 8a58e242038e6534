import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { definedOnly } from '@converge/core'
import { type AdminApi, sendJson } from './admin-api.js'
import type { NatsCluster } from './cluster/nats-cluster.js'
import type { MeshLinkWatch } from './mesh-link-watch.js'
import type { RelayMetrics } from './relay-metrics.js'
import { setSecurityHeaders } from './security-headers.js'
import { serveStatic } from './static-files.js'

/** What the relay's HTTP routes read of it, at the time of the request. */
export interface RelayRouteState {
  ready: boolean
  /** Why the store takes no more writes (Store.failure): /readyz answers 503 until a restart. */
  storeFailure: Error | undefined
  meshLinks: readonly MeshLinkWatch[]
  cluster: NatsCluster | undefined
  metrics: RelayMetrics
  admin: AdminApi | undefined
  metricsToken: string | undefined
  /** /metrics is served on a separate address (--metrics-listen): the main port answers 404. */
  metricsElsewhere?: boolean
  static: string | undefined
  /** ws://host:port of the relay (read only for the placeholder page). */
  url: () => string
}

/**
 * The relay's HTTP routes (WebSocket upgrades go elsewhere): /healthz, /readyz, /metrics,
 * the admin API under /api/, static files, the placeholder page at /, else 404.
 */
export const routeRequest = async (
  relay: RelayRouteState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> => {
  setSecurityHeaders(res)
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok' })
    return
  }
  if (path === '/readyz') {
    // A mesh peer being down leaves this relay serving its clients: still 200, with the reasons.
    const reasons = relay.meshLinks.flatMap((link) => link.degradedReason() ?? [])
    // So does NATS being unreachable for a cluster relay.
    const cluster = relay.cluster
    if (cluster !== undefined && !cluster.connected) reasons.push('NATS unreachable: buffering publishes')
    const nats =
      cluster === undefined ? undefined : { connected: cluster.connected, unpublishedDocs: cluster.unpublished }
    if (!relay.ready) sendJson(res, 503, { status: 'not ready' })
    else if (relay.storeFailure !== undefined)
      sendJson(res, 503, {
        status: 'failed',
        reasons: [`the store takes no more writes until the relay restarts: ${relay.storeFailure.message}`],
      })
    else if (reasons.length === 0) sendJson(res, 200, definedOnly({ status: 'ready', nats }))
    else sendJson(res, 200, definedOnly({ status: 'degraded', reasons, nats }))
    return
  }
  if (path === '/metrics' && relay.metricsElsewhere !== true) {
    await serveMetrics(relay, req, res)
    return
  }
  if (path?.startsWith('/api/')) {
    if (relay.admin === undefined)
      sendJson(res, 404, { error: 'the admin API is off (start the relay with --admin-token)' })
    else await relay.admin.handle(req, res)
    return
  }
  if (relay.static !== undefined && (await serveStatic(relay.static, req, res))) return
  if (path === '/' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(placeholderPage(relay.url()))
    return
  }
  sendJson(res, 404, { error: 'not found' })
}

/** GET /metrics: Prometheus text, behind the metrics token when there is one. */
export const serveMetrics = async (
  relay: Pick<RelayRouteState, 'metrics' | 'metricsToken'>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> => {
  if (relay.metricsToken !== undefined && !bearerMatches(req, relay.metricsToken)) {
    sendJson(res, 401, { error: 'a valid metrics bearer token is required' })
    return
  }
  res.writeHead(200, { 'content-type': relay.metrics.registry.contentType })
  res.end(await relay.metrics.registry.metrics())
}

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
const bearerMatches = (req: IncomingMessage, token: string): boolean => {
  const given = Buffer.from(req.headers.authorization ?? '')
  const expected = Buffer.from(`Bearer ${token}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const placeholderPage = (url: string) => `<!doctype html>
<meta charset="utf-8"><title>converge relay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .3em}</style>
<h1>converge relay</h1>
<p>This relay is running. Connect a y-websocket client to <code>${url}/&lt;document&gt;</code>,
or a converge replica to <code>${url}</code>.</p>
<p><a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p>
`
