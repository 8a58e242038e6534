import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import { TrustedProxies } from './trusted-proxies.js'

export interface ConnectionCapsOptions {
  /** Most concurrent TCP connections from one address (HTTP, upgrades, WebSockets). 0: no cap. */
  maxConnectionsPerIp: number
  /**
   * Most connections from one address that are still in their handshake: sending HTTP
   * headers (slowloris), or upgraded but not yet authenticated. 0: no cap.
   */
  maxHandshakesPerIp: number
  /** Addresses exempt from both caps (a reverse proxy on the same machine, say). */
  exempt: string[]
  /** Told about every connection refused by a cap. */
  onRefused: (address: string, cap: 'connections' | 'handshakes') => void
  /**
   * Reverse proxies whose connections are not capped by their own address: each upgrade
   * through one counts against its forwarded client's address instead (admitForwarded).
   */
  trusted?: TrustedProxies
}

/** The default exemption: loopback, where a local reverse proxy, tests and benchmarks connect from. */
export const LOOPBACK_ADDRESSES = ['127.0.0.1', '::1', '::ffff:127.0.0.1']

/**
 * Per-address caps on an HTTP server's connections, applied the moment a TCP connection is
 * accepted, before any byte of it is parsed: one address cannot hold every file descriptor,
 * nor trickle headers on hundreds of sockets to keep them open. A connection stops counting
 * as a handshake when its first request has arrived whole (`settled`), for a WebSocket when
 * its peer is authenticated.
 */
export class ConnectionCaps {
  private readonly options: ConnectionCapsOptions
  private readonly connections = new Map<string, number>()
  private readonly handshakes = new Map<string, number>()
  /** Connections in their handshake, by 'address|port' (the same for a TLS socket and its TCP socket). */
  private readonly pending = new Map<string, string>()
  private readonly exempt: Set<string>
  private readonly trusted: TrustedProxies

  constructor(options: ConnectionCapsOptions) {
    this.options = options
    this.exempt = new Set(options.exempt)
    this.trusted = options.trusted ?? new TrustedProxies()
  }

  /** Applies the caps to `server`. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.accept(socket))
    // A plain HTTP request settles its connection once its headers are in (keep-alive reuse is fine).
    server.on('request', (req) => {
      if (req.headers.upgrade === undefined) this.settled(req.socket as Socket)
    })
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? '?'
    // A trusted proxy carries many clients: they are counted one by one at their upgrade.
    if (this.exempt.has(address) || this.trusted.trusts(address)) return
    this.count(socket, address)
  }

  /**
   * An upgrade through a trusted proxy: counts its socket against the forwarded client's
   * caps until it closes (as a handshake until `settled`). Returns the cap it would pass,
   * which the caller refuses it for, or undefined when admitted (or not through a proxy).
   */
  admitForwarded(request: IncomingMessage): 'connections' | 'handshakes' | undefined {
    const socket = request.socket as Socket
    if (!this.trusted.trusts(socket.remoteAddress)) return undefined
    const client = this.trusted.clientOf(request)
    if (this.exempt.has(client)) return undefined
    return this.count(socket, client)
  }

  /** Counts `socket` for `address`, or refuses it (destroyed) past a cap. */
  private count(socket: Socket, address: string): 'connections' | 'handshakes' | undefined {
    const { maxConnectionsPerIp, maxHandshakesPerIp } = this.options
    const open = this.connections.get(address) ?? 0
    const shaking = this.handshakes.get(address) ?? 0
    const cap = maxConnectionsPerIp > 0 && open >= maxConnectionsPerIp ? 'connections' : undefined
    const shakeCap = maxHandshakesPerIp > 0 && shaking >= maxHandshakesPerIp ? 'handshakes' : undefined
    if (cap !== undefined || shakeCap !== undefined) {
      this.options.onRefused(address, cap ?? 'handshakes')
      socket.destroy()
      return cap ?? shakeCap
    }
    this.connections.set(address, open + 1)
    this.handshakes.set(address, shaking + 1)
    const key = keyOf(socket)
    this.pending.set(key, address)
    socket.once('close', () => {
      this.settle(key)
      count(this.connections, address, -1)
    })
    return undefined
  }

  /** The connection's handshake is over: it no longer counts against the handshake cap. */
  settled(socket: Socket): void {
    this.settle(keyOf(socket))
  }

  private settle(key: string): void {
    const address = this.pending.get(key)
    if (address === undefined) return
    this.pending.delete(key)
    count(this.handshakes, address, -1)
  }
}

const keyOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`

const count = (map: Map<string, number>, key: string, delta: number) => {
  const n = (map.get(key) ?? 0) + delta
  if (n <= 0) map.delete(key)
  else map.set(key, n)
}
