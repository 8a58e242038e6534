import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { CloseCode, ConvergeError, definedOnly, type Peer, Replica, type Store, type StoreStats } from '@converge/core'
import { ReplicaWebSocketServer, websocket } from '@converge/websocket'
import { type Logger, pino } from 'pino'
import { AdminApi, sendJson } from './admin-api.js'
import { openDataDir } from './data-dir.js'
import { MeshLinkWatch } from './mesh-link-watch.js'
import { OptionValueError, peerUrl } from './option-parsers.js'
import { peerOptionsOf, RELAY_DEFAULTS } from './option-spec.js'
import { RelayMetrics } from './relay-metrics.js'
import type { RelayOptions } from './relay-options.js'
import { logStartup } from './startup-banner.js'
import { serveStatic } from './static-files.js'
import { accessOf, verifyToken } from './tokens.js'

export type { RelayOptions }

type ResolvedOptions = RelayOptions & { host: string; port: number; data: string }

/**
 * A relay peer: persists documents to LevelDB, serves y-websocket clients and converge
 * replicas on one port, peers with other relays, and reports health and metrics.
 *
 * ```ts
 * const relay = await Relay.start({ port: 1234, data: './data' })
 * // ...
 * await relay.stop()
 * ```
 */
export class Relay {
  readonly replica: Replica
  readonly store: Store
  readonly metrics: RelayMetrics
  readonly server: Server
  readonly sockets: ReplicaWebSocketServer
  readonly log: Logger
  readonly meshPeers: Peer[] = []
  private readonly meshLinks: MeshLinkWatch[] = []
  private readonly options: ResolvedOptions
  private readonly admin: AdminApi | undefined
  private ready = false
  private stopping: Promise<void> | undefined

  private constructor(
    options: ResolvedOptions,
    store: Store,
    log: Logger,
    tls: { cert: Buffer; key: Buffer } | undefined,
  ) {
    this.options = options
    this.store = store
    this.log = log
    this.metrics = new RelayMetrics({
      connections: () => this.sockets.connections,
      store: () => (store as { stats?: StoreStats }).stats,
    })
    this.replica = new Replica({
      role: 'relay',
      store,
      peerId: options.peerId,
      unloadDelay: options.unloadDelay,
      maxPendingBytes: options.maxPendingBytes,
      observer: this.metrics.observer(),
    })
    this.replica.on('error', (err, context) => log.error({ err }, context))
    const secret = options.authSecret
    this.sockets = new ReplicaWebSocketServer(this.replica, {
      authorizeRequest:
        secret === undefined
          ? undefined
          : async (request) => {
              const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? ''
              return accessOf(await verifyToken(token, secret))
            },
      authorize:
        secret === undefined
          ? undefined
          : async (hello) => {
              const claims = await verifyToken(hello.token, secret)
              if (hello.role === 'relay' && !claims.relay) {
                throw new ConvergeError('CONVERGE_FORBIDDEN', 'this token does not admit a relay')
              }
              return accessOf(claims)
            },
      maxMessageBytes: options.maxMessageBytes,
      pingInterval: options.pingInterval,
      peer: peerOptionsOf(options, 'accept'),
      onPeer: (peer, request) => this.watchPeer(peer, request.url ?? ''),
      onRefused: (request, status, reason) => {
        this.metrics.refused.inc({ status: String(status) })
        log.info({ url: request.url, status, reason }, 'upgrade refused')
      },
    })
    this.admin = options.adminToken ? new AdminApi(this.replica, options.adminToken) : undefined
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch((err) => {
        log.error({ err, url: req.url }, 'request failed')
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('internal error\n')
      })
    }
    this.server = tls === undefined ? createServer(handler) : createHttpsServer(tls, handler)
    this.server.on('upgrade', (req, socket, head) => this.sockets.handleUpgrade(req, socket, head))
  }

  /** Opens the store, listens, and dials the configured peers. */
  static async start(options: RelayOptions = {}): Promise<Relay> {
    const resolved = { ...RELAY_DEFAULTS, ...definedOnly(options) } as ResolvedOptions
    for (const url of resolved.peers ?? []) checkPeerUrl(url)
    const log = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ name: 'converge' }))
    // TLS files first: a missing one fails before anything is opened.
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
      throw new Error('TLS needs both a certificate and a key')
    }
    const tls =
      options.tlsCert !== undefined && options.tlsKey !== undefined
        ? { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) }
        : undefined
    const store =
      options.store ??
      (await openDataDir(
        resolved.data,
        { sync: resolved.fsync, onError: (err) => log.error({ err, code: err.code }, 'store') },
        { create: true },
      ))
    const relay = new Relay(resolved, store, log, tls)
    try {
      await relay.listen()
    } catch (err) {
      // The port is taken, say: release what this call opened (timers, the store).
      await relay.stop().catch(() => undefined)
      throw listenError(err, resolved)
    }
    return relay
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.ready = true
    for (const url of this.options.peers ?? []) this.dial(url)
    logStartup(this.log, {
      host: this.options.host,
      port: this.port,
      tls: this.options.tlsCert !== undefined,
      data: this.options.store ? '(custom store)' : this.options.data,
      authSecret: this.options.authSecret !== undefined,
      adminApi: this.admin !== undefined,
      static: this.options.static,
      peers: this.options.peers ?? [],
    })
  }

  /** The port actually bound. */
  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** ws://host:port (wss:// with TLS) of this relay. */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host
    return `${this.options.tlsCert === undefined ? 'ws' : 'wss'}://${host}:${this.port}`
  }

  private dial(url: string): void {
    const watch = new MeshLinkWatch(url, this.log, this.metrics)
    const peer = this.replica.connect(watch.connector(websocket(url)), {
      ...peerOptionsOf(this.options, 'dial'),
      token: this.options.peerToken,
    })
    watch.watch(peer)
    this.meshPeers.push(peer)
    this.meshLinks.push(watch)
  }

  private watchPeer(peer: Peer, url: string): void {
    peer.on('error', (err) =>
      this.log.info({ peer: peer.remoteId, url, code: err.code, msg: err.message }, 'closing a peer'),
    )
    peer.on('status', (status) => {
      if (status === 'open') this.log.debug({ peer: peer.remoteId, role: peer.remoteRole, url }, 'peer connected')
      if (status === 'closed') this.log.debug({ peer: peer.remoteId, close: peer.lastClose }, 'peer disconnected')
    })
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' })
      return
    }
    if (path === '/readyz') {
      // A mesh peer being down leaves this relay serving its clients: still 200, with the reasons.
      const reasons = this.meshLinks.flatMap((link) => link.degradedReason() ?? [])
      if (!this.ready) sendJson(res, 503, { status: 'not ready' })
      else sendJson(res, 200, reasons.length === 0 ? { status: 'ready' } : { status: 'degraded', reasons })
      return
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType })
      res.end(await this.metrics.registry.metrics())
      return
    }
    if (path?.startsWith('/api/')) {
      if (this.admin === undefined)
        sendJson(res, 404, { error: 'the admin API is off (start the relay with --admin-token)' })
      else await this.admin.handle(req, res)
      return
    }
    if (this.options.static !== undefined && (await serveStatic(this.options.static, req, res))) return
    if (path === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(placeholderPage(this.url))
      return
    }
    sendJson(res, 404, { error: 'not found' })
  }

  /** Stops accepting, closes every connection (1001), writes what is pending, closes the store. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false
      await this.sockets.close(CloseCode.goingAway, 'relay shutting down')
      await this.replica.destroy()
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve())
        this.server.closeAllConnections()
      })
      if (this.options.store === undefined) await this.store.close()
      this.log.info('relay stopped')
    })()
    return this.stopping
  }
}

/** A listen failure people can act on: a port in use says how to pick another. */
const listenError = (err: unknown, { host, port }: { host: string; port: number }): unknown => {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') {
    return new Error(`port ${port} on ${host} is already in use (another relay?): choose another with --port or PORT`)
  }
  if (code === 'EACCES')
    return new Error(`no permission to listen on port ${port} on ${host}: choose a port above 1023 with --port or PORT`)
  return err
}

/** Rejects a peer URL that cannot be dialed, naming it, before anything is opened. */
const checkPeerUrl = (url: string): void => {
  try {
    peerUrl(url)
  } catch (err) {
    if (err instanceof OptionValueError) throw new Error(`peer ${err.message}`)
    throw err
  }
}

const placeholderPage = (url: string) => `<!doctype html>
<meta charset="utf-8"><title>converge relay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .3em}</style>
<h1>converge relay</h1>
<p>This relay is running. Connect a y-websocket client to <code>${url}/&lt;document&gt;</code>,
or a converge replica to <code>${url}</code>.</p>
<p><a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p>
`
