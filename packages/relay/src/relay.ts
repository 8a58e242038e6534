import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import {
  CloseCode,
  definedOnly,
  type Peer,
  type PeerContext,
  Replica,
  type Store,
  type StoredChange,
  type StoreStats,
} from '@converge/core'
import { ReplicaWebSocketServer, websocket } from '@converge/websocket'
import { type Logger, pino } from 'pino'
import type { ChangeFeed, ChangesQuery } from './change-feed.js'
import type { NatsCluster } from './cluster/nats-cluster.js'
import { composeObservers } from './compose-observers.js'
import { openDataDir } from './data-dir.js'
import { MeshLinkWatch } from './mesh-link-watch.js'
import { OptionValueError, peerUrl } from './option-parsers.js'
import { peerOptionsOf, RELAY_DEFAULTS } from './option-spec.js'
import { readTokenFile } from './peer-tokens.js'
import { logSerializers, redactUrl } from './redact.js'
import { RelayEdge } from './relay-edge.js'
import { RelayExtensions } from './relay-extensions.js'
import { RelayMetrics } from './relay-metrics.js'
import type { RelayOptions } from './relay-options.js'
import { routeRequest } from './relay-routes.js'
import { type RelayServices, relayServices } from './relay-services.js'
import { RevocationList } from './revocations.js'
import { ServerDocument } from './server-doc.js'
import { logStartup } from './startup-banner.js'
import { checkKeys } from './tokens.js'
import { clientAddressOf } from './trusted-proxies.js'
import type { Webhooks } from './webhooks.js'

export type { RelayOptions }

type ResolvedOptions = RelayOptions &
  Required<
    Pick<
      RelayOptions,
      | 'host'
      | 'port'
      | 'data'
      | 'maxTokenTtl'
      | 'tokenRefreshGrace'
      | 'maxConnectionsPerIp'
      | 'maxHandshakesPerIp'
      | 'perIpExempt'
      | 'headersTimeout'
      | 'requestTimeout'
      | 'maxAdminBodyBytes'
    >
  >

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
  /** The mesh links this relay dials (the `peers` option), each watched for people. */
  private readonly meshLinks: MeshLinkWatch[] = []
  /** The optional services: cluster, change feed, webhooks, admin API (relay-services.ts). */
  private readonly services: RelayServices
  private readonly ext: RelayExtensions
  private readonly edge: RelayEdge
  private readonly options: ResolvedOptions
  /** starting -> ready (listening) -> stopping. */
  private phase: { kind: 'starting' | 'ready' } | { kind: 'stopping'; done: Promise<void> } = { kind: 'starting' }

  private constructor(
    options: ResolvedOptions,
    store: Store,
    log: Logger,
    tls: { cert: Buffer; key: Buffer } | undefined,
    revocations: RevocationList,
    cluster: NatsCluster | undefined,
  ) {
    this.options = options
    this.store = store
    this.log = log
    this.metrics = new RelayMetrics({
      connections: () => this.sockets.connections,
      store: () => (store as { stats?: StoreStats }).stats,
    })
    this.ext = new RelayExtensions(options, this.metrics.registry, log)
    this.replica = new Replica({
      role: 'relay',
      store,
      peerId: options.peerId,
      unloadDelay: options.unloadDelay,
      // The cluster bridges presence of loaded documents only (nats-awareness.ts).
      coldDocs: (options.coldDocs ?? true) && cluster === undefined,
      awarenessCoalesceMs: options.awarenessCoalesceMs,
      awarenessFramesPerSecond: options.awarenessFramesPerSecond,
      awarenessCoalesceMaxMs: options.awarenessCoalesceMaxMs,
      maxPendingBytes: options.maxPendingBytes,
      maxNestingDepth: options.maxNestingDepth,
      maxDocBytes: options.maxDocBytes,
      maxMergedUpdateBytes: options.maxMergedUpdateBytes,
      observer: this.ext.observer(composeObservers(this.metrics.observer(), cluster?.observer())),
      savedWhen: cluster?.savedGate(),
      seedDocument: this.ext.seedDocument,
    })
    this.ext.attach(this.replica)
    cluster?.attach(this.replica, this.metrics.registry)
    this.replica.on('error', (err, context) => log.error({ err }, context))
    const auth = this.ext.auth
    this.edge = new RelayEdge(
      {
        ...options,
        keys: { secret: options.authSecret, keys: options.authKeys },
        hooksDecide: auth.hooksDecide,
      },
      revocations,
      this.metrics,
      log,
    )
    auth.gate = this.edge
    this.sockets = new ReplicaWebSocketServer(this.replica, {
      checkUpgrade: this.edge.checkUpgrade,
      authorizeRequest: auth.active ? auth.request : undefined,
      // Always: even an open relay decides the relay role.
      authorize: auth.hello,
      firstMessageTimeout: options.firstMessageTimeout,
      maxMessageBytes: options.maxMessageBytes,
      pingInterval: options.pingInterval,
      peer: peerOptionsOf(options, 'accept'),
      onPeer: (peer, request) => {
        this.edge.accepted(peer, request)
        this.watchPeer(peer, redactUrl(request.url) ?? '', clientAddressOf(request))
        this.ext.watchPeer(peer)
      },
      onRefused: (request, status, reason) => {
        this.metrics.edge.refused.inc({ status: String(status) })
        log.info(
          { url: request.url, client: clientAddressOf(request), origin: request.headers.origin, status, reason },
          'upgrade refused',
        )
      },
    })
    this.services = relayServices({
      options,
      store,
      replica: this.replica,
      ext: this.ext,
      metrics: this.metrics,
      log,
      revocations,
      cluster,
    })
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch((err) => {
        log.error({ err, url: redactUrl(req.url) }, 'request failed')
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('internal error\n')
      })
    }
    const serverOptions = {
      headersTimeout: options.headersTimeout,
      requestTimeout: options.requestTimeout,
      // Node enforces both timeouts on this tick (default 30 s, which would stretch them).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, options.headersTimeout / 2)),
    }
    this.server =
      tls === undefined
        ? createServer(serverOptions, handler)
        : createHttpsServer({ ...tls, ...serverOptions }, handler)
    this.edge.attach(this.server)
    this.server.on('upgrade', (req, socket, head) => {
      // Who it comes from (behind a trusted proxy) and the per-address caps: first.
      if (!this.edge.admitUpgrade(req)) return
      this.ext.upgrade(
        req,
        socket,
        () => this.sockets.handleUpgrade(req, socket, head),
        (status, reason) => {
          this.metrics.edge.refused.inc({ status: String(status) })
          log.info({ url: req.url, status, reason }, 'upgrade refused by onUpgrade')
        },
      )
    })
  }

  /** Opens the store, listens, and dials the configured peers. */
  static async start(options: RelayOptions = {}): Promise<Relay> {
    const resolved = { ...RELAY_DEFAULTS, ...definedOnly(options) } as ResolvedOptions
    for (const url of resolved.peers ?? []) checkPeerUrl(url)
    // A token file that cannot be read fails before anything is opened.
    if (options.peerTokenFile !== undefined) await readTokenFile(options.peerTokenFile)
    const base = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ name: 'converge' }))
    // Every `url` logged loses its ?token= value, whoever made the logger.
    const log = base.child({}, { serializers: logSerializers })
    checkKeys({ secret: options.authSecret, keys: options.authKeys })
    // TLS files first: a missing one fails before anything is opened.
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
      throw new Error('TLS needs both a certificate and a key')
    }
    const tls =
      options.tlsCert !== undefined && options.tlsKey !== undefined
        ? { cert: await readFile(options.tlsCert), key: await readFile(options.tlsKey) }
        : undefined
    let store: Store =
      options.store ??
      (await openDataDir(
        resolved.data,
        {
          sync: resolved.fsync,
          changeLog: resolved.changeFeed ?? true,
          onError: (err) => log.error({ err, code: err.code }, 'store'),
        },
        { create: true, journal: resolved.journal },
      ))
    const revocationsFile =
      options.revocationsFile ?? (options.store === undefined ? join(resolved.data, 'revocations.json') : undefined)
    let revocations: RevocationList
    try {
      revocations = await RevocationList.open(revocationsFile)
    } catch (err) {
      if (options.store === undefined) await store.close()
      throw err
    }
    let cluster: NatsCluster | undefined
    if (options.nats !== undefined) {
      // The NATS clients load only for a cluster relay.
      const { joinCluster } = await import('./cluster/join-cluster.js')
      const joined = joinCluster(options.nats, store, log)
      cluster = joined.cluster
      store = joined.store
    }
    const relay = new Relay(resolved, store, log, tls, revocations, cluster)
    try {
      await cluster?.start()
      // No deleted document may be served by mistake: the tombstones load before anyone connects.
      await relay.replica.ready
      await relay.listen()
    } catch (err) {
      // The port is taken, say: release what this call opened (timers, the store).
      await relay.stop().catch(() => undefined)
      throw listenError(err, resolved)
    }
    return relay
  }

  /** The NATS cluster this relay belongs to, with `nats`. */
  get cluster(): NatsCluster | undefined {
    return this.services.cluster
  }
  /** The change feed, when the store keeps a change log. */
  get feed(): ChangeFeed | undefined {
    return this.services.feed
  }
  /** Webhook deliveries, when webhooks are configured. */
  get webhooks(): Webhooks | undefined {
    return this.services.webhooks
  }
  get revocations(): RevocationList {
    return this.edge.revocations
  }
  /** The peers this relay dials (the `peers` option). */
  get meshPeers(): Peer[] {
    return this.meshLinks.flatMap((watch) => (watch.peer === undefined ? [] : [watch.peer]))
  }

  private async listen(): Promise<void> {
    await this.webhooks?.start(await this.store.list())
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    await this.services.metricsListener?.listen()
    this.services.peerTokens.watch(() => {
      for (const peer of this.meshPeers) peer.refreshToken()
    })
    if (this.phase.kind === 'starting') this.phase = { kind: 'ready' }
    for (const url of this.options.peers ?? []) this.dial(url)
    logStartup(this.log, {
      host: this.options.host,
      port: this.port,
      tls: this.options.tlsCert !== undefined,
      data: this.options.store ? '(custom store)' : this.options.data,
      auth: this.edge.required ? 'tokens' : this.ext.auth.active ? 'extension' : 'open',
      adminApi: this.services.admin !== undefined,
      static: this.options.static,
      peers: this.options.peers ?? [],
    })
    this.edge.warn(this.log)
    await this.ext.listening(this.url, this.port)
  }

  /** http://host:port/metrics of the separate metrics address, with `metricsListen`. */
  get metricsUrl(): string | undefined {
    return this.services.metricsListener?.url
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

  /**
   * Opens a document on the relay itself (see ServerDocument): its edits are trusted,
   * durable before they are visible, and sent to clients and peers like a client's;
   * `context.user` is recorded with them.
   */
  open(name: string, context?: PeerContext): Promise<ServerDocument> {
    return ServerDocument.open(this.replica, name, context)
  }

  /**
   * The change feed as an async iterator (see GET /api/changes): the records after
   * `since`; with `follow` (default), it waits for new ones until `signal` aborts.
   */
  changes(query: ChangesQuery = {}): AsyncGenerator<StoredChange> {
    if (this.feed === undefined) {
      throw new Error('this relay keeps no change feed (changeFeed: false, or a store without one)')
    }
    return this.feed.changes(query)
  }

  /** Sends an app-defined message to every converge.v1 client that has `doc` open here. */
  broadcastStateless(doc: string, payload: string): void {
    this.replica.sendStateless(doc, payload)
  }

  private dial(url: string): void {
    const watch = new MeshLinkWatch(url, this.log, this.metrics)
    const peer = this.replica.connect(watch.connector(websocket(url)), {
      ...peerOptionsOf(this.options, 'dial'),
      token: this.services.peerTokens.token,
    })
    watch.watch(peer)
    this.meshLinks.push(watch)
  }

  private watchPeer(peer: Peer, url: string, client: string): void {
    peer.on('error', (err) =>
      this.log.info({ peer: peer.remoteId, client, url, code: err.code, msg: err.message }, 'closing a peer'),
    )
    peer.on('status', (status) => {
      if (status === 'open')
        this.log.debug({ peer: peer.remoteId, client, role: peer.remoteRole, url }, 'peer connected')
      if (status === 'closed') this.log.debug({ peer: peer.remoteId, close: peer.lastClose }, 'peer disconnected')
    })
  }

  private route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return routeRequest(
      {
        ready: this.phase.kind === 'ready',
        storeFailure: this.store.failure,
        meshLinks: this.meshLinks,
        cluster: this.cluster,
        metrics: this.metrics,
        admin: this.services.admin,
        metricsToken: this.options.metricsToken,
        metricsElsewhere: this.services.metricsListener !== undefined,
        static: this.options.static,
        url: () => this.url,
      },
      req,
      res,
    )
  }

  /** Stops accepting, closes every connection (1001), writes what is pending, closes the store. */
  stop(): Promise<void> {
    if (this.phase.kind === 'stopping') return this.phase.done
    const done = (async () => {
      this.edge.stop()
      this.services.peerTokens.stop()
      await this.services.metricsListener?.close()
      await this.sockets.close(CloseCode.goingAway, 'relay shutting down')
      await this.replica.destroy()
      await this.cluster?.close()
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve())
        this.server.closeAllConnections()
      })
      // Pending settles read the store: before it closes.
      await this.ext.drain()
      await this.services.webhookQueue?.stop()
      this.services.feed?.close()
      await this.ext.destroyed()
      if (this.options.store === undefined) await this.store.close()
      this.log.info('relay stopped')
    })()
    this.phase = { kind: 'stopping', done }
    return done
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
