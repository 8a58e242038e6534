import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import { ConvergeError, MUX_PROTOCOL, type Peer } from '@converge/core'
import type { Logger } from 'pino'
import { ConnectionCaps } from './connection-caps.js'
import { isLoopbackHost, originPolicy } from './origin-policy.js'
import type { TokenGate } from './relay-auth.js'
import type { RelayMetrics } from './relay-metrics.js'
import type { RevocationList } from './revocations.js'
import { TokenWatch } from './token-watch.js'
import { hasKeys, type TokenKeys, type VerifiedClaims, verifyToken } from './tokens.js'
import { rememberClient, TrustedProxies } from './trusted-proxies.js'

/** The relay options the edge decides with (see RelayOptions for each). */
export interface RelayEdgeOptions {
  host: string
  keys: TokenKeys
  maxTokenTtl: number
  tokenRefreshGrace: number
  allowedOrigins?: string[]
  allowedHosts?: string[]
  allowUnauthenticatedRelays?: boolean
  /** An extension may admit connections without a token (onAuthenticate): origins are enforced. */
  hooksDecide?: boolean
  maxConnectionsPerIp: number
  maxHandshakesPerIp: number
  perIpExempt: string[]
  /** Reverse proxies whose X-Forwarded-For is believed (none: the header is ignored). */
  trustProxy?: string[]
}

/**
 * Who gets in, at the relay's edge: the Origin and Host checks on upgrades, tokens (verified,
 * revocation-checked, watched until they expire), the relay role, and per-address caps on
 * the HTTP server. One place for every admission decision the relay makes before a peer
 * reaches the replica; what an admitted peer may do is its Access.
 */
export class RelayEdge implements TokenGate {
  readonly authRequired: boolean
  private readonly options: RelayEdgeOptions
  readonly revocations: RevocationList
  private readonly tokens: TokenWatch
  private readonly caps: ConnectionCaps
  private readonly checkOrigin: (request: IncomingMessage) => string | undefined
  private readonly metrics: RelayMetrics
  private readonly proxies: TrustedProxies

  constructor(options: RelayEdgeOptions, revocations: RevocationList, metrics: RelayMetrics, log: Logger) {
    this.options = options
    this.revocations = revocations
    this.metrics = metrics
    this.authRequired = hasKeys(options.keys)
    this.tokens = new TokenWatch({ refreshGrace: options.tokenRefreshGrace, revocations })
    this.checkOrigin = originPolicy({
      listenHost: options.host,
      ambientAuthority: !this.authRequired || options.hooksDecide === true,
      allowedOrigins: options.allowedOrigins,
      allowedHosts: options.allowedHosts,
    })
    this.proxies = new TrustedProxies(options.trustProxy)
    this.caps = new ConnectionCaps({
      maxConnectionsPerIp: options.maxConnectionsPerIp,
      maxHandshakesPerIp: options.maxHandshakesPerIp,
      exempt: options.perIpExempt,
      trusted: this.proxies,
      onRefused: (address, cap) => {
        metrics.edge.capped.inc({ cap })
        log.warn({ address, cap }, 'connection refused: per-address cap')
      },
    })
  }

  /** Applies the per-address caps and timeouts' companions to the relay's HTTP server. */
  attach(server: Server): void {
    this.caps.attach(server)
  }

  /**
   * First thing on every upgrade: decides who it comes from (X-Forwarded-For only behind a
   * trusted proxy) and counts it against that client's caps. False when a cap refused it
   * (the socket is destroyed, as a connection over a cap is at accept).
   */
  admitUpgrade(request: IncomingMessage): boolean {
    rememberClient(request, this.proxies.clientOf(request))
    return this.caps.admitForwarded(request) === undefined
  }

  /** The Origin and Host check of the relay's ReplicaWebSocketServer. */
  checkUpgrade = (request: IncomingMessage): string | undefined => {
    const refusal = this.checkOrigin(request)
    if (refusal !== undefined) {
      this.metrics.edge.crossOrigin.inc({ check: refusal.startsWith('host') ? 'host' : 'origin' })
    }
    return refusal
  }

  get required(): boolean {
    return this.authRequired
  }

  get allowUnauthenticatedRelays(): boolean {
    return this.options.allowUnauthenticatedRelays === true
  }

  /** Tells the edge about an accepted peer: its token is watched, its handshake ends when it opens. */
  accepted(peer: Peer, request: IncomingMessage): void {
    if (this.authRequired) this.tokens.bind(peer, request, isMux(request))
    // Only the socket is kept, and only until the peer opens: not the request (headers and all).
    const socket = request.socket as Socket
    // A y-websocket peer is open as it is accepted (no hello): no 'status' event follows.
    if (peer.status === 'open') {
      this.caps.settled(socket)
      return
    }
    const settled = (status: string) => {
      if (status !== 'open') return
      this.caps.settled(socket)
      peer.off('status', settled)
    }
    peer.on('status', settled)
  }

  /** Warns loudly at startup about an open relay listening beyond loopback. */
  warn(log: Logger): void {
    if (this.authRequired) return
    const host = this.options.host
    // On loopback the startup banner's warning says enough.
    if (isLoopbackHost(host)) return
    log.warn(
      { host, allowedOrigins: this.options.allowedOrigins ?? '(own origin only)' },
      `SECURITY WARNING: listening on ${host} without --auth-secret: anyone who can reach this port reads ` +
        'and writes every document. Browsers are admitted only from pages of this relay (--allowed-origins) ' +
        "reached by this machine's names (--allowed-hosts). Set --auth-secret unless this network is trusted.",
    )
  }

  /** Stops watching tokens (the relay is stopping). */
  stop(): void {
    this.tokens.clear()
  }

  /** Verifies a token, refuses a revoked one, and watches the connection it admits. */
  async verify(token: string, request: IncomingMessage, mux: boolean): Promise<VerifiedClaims> {
    const claims = await verifyToken(token, this.options.keys, { maxTtl: this.options.maxTokenTtl })
    if (this.revocations.isRevoked(claims)) throw new ConvergeError('CONVERGE_AUTH_DENIED', 'token revoked')
    this.tokens.admitted(request, claims, mux)
    return claims
  }
}

/** True for a converge.v1 upgrade (the subprotocol offered). */
const isMux = (request: IncomingMessage) =>
  (request.headers['sec-websocket-protocol'] ?? '').split(',').some((p) => p.trim() === MUX_PROTOCOL)
