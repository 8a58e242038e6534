import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  type AcceptOptions,
  type Access,
  CloseCode,
  ConvergeError,
  DEFAULT_PEER_OPTIONS,
  definedOnly,
  fullAccess,
  type HelloMessage,
  isConvergeError,
  isValidDocName,
  MUX_PROTOCOL,
  mayReadDoc,
  type Peer,
  type Replica,
} from '@converge/core'
import { type WebSocket, WebSocketServer } from 'ws'
import { type WebSocketLike, WebSocketTransport } from './websocket-transport.js'
import { sendPrepared } from './ws-prepared-frames.js'

export interface ReplicaWebSocketServerOptions {
  /** Largest frame accepted, in bytes; `ws` closes a socket that sends more with 1009. Default 16 MiB. */
  maxMessageBytes?: number
  /**
   * Interval of WebSocket pings, in ms. A socket that has sent nothing (no pong, no
   * message) since the previous ping when the next is due, and was not paused by flow
   * control meanwhile, is dropped (4508), so a dead peer is gone within two intervals.
   * A round that runs late (this process's event loop was busy) judges no socket.
   * Default 15_000.
   */
  pingInterval?: number
  /**
   * Access of a y-websocket-framed connection (one document per socket), decided from
   * the upgrade request, e.g. its `?token=`. Throw a ConvergeError with code
   * CONVERGE_AUTH_DENIED (close 4401) or CONVERGE_FORBIDDEN (4403) to refuse: the upgrade
   * completes and the socket closes with that code, which a stock client does not retry.
   * Default: full access.
   */
  authorizeRequest?: (request: IncomingMessage, doc: string) => Access | Promise<Access>
  /** Access of a converge.v1 connection, decided from its hello. Default: full access. */
  authorize?: (hello: HelloMessage, request: IncomingMessage) => Access | Promise<Access>
  /** Options for every accepted peer: heartbeats and limits. */
  peer?: Omit<AcceptOptions, 'framing' | 'authorize' | 'access'>
  /** Told about every accepted peer, with its request (for logs and metrics). */
  onPeer?: (peer: Peer, request: IncomingMessage) => void
  /** Told about every refused upgrade. */
  onRefused?: (request: IncomingMessage, status: number, reason: string) => void
  /**
   * Decides first whether an upgrade may proceed at all (Origin and Host checks): return a
   * reason to refuse it with HTTP 403, or undefined. Default: every upgrade proceeds.
   */
  checkUpgrade?: (request: IncomingMessage) => string | undefined
  /**
   * Close a y-websocket socket that has sent no frame this long after opening, in ms (4508).
   * A stock client sends its sync step 1 at once. converge.v1 peers are bounded by the
   * handshake timeout instead. Default 10_000; 0 turns it off.
   */
  firstMessageTimeout?: number
}

/** Defaults of the server's own options (a frame's size limit is the peers' one). */
export const DEFAULT_SERVER_OPTIONS = {
  maxMessageBytes: DEFAULT_PEER_OPTIONS.maxMessageBytes,
  pingInterval: 15_000,
  firstMessageTimeout: 10_000,
}

/**
 * Raises the frame size limit of an accepted socket. `ws` fixes maxPayload per server; until
 * a converge.v1 peer is authenticated its socket runs with the pre-auth limit, so an
 * unauthenticated sender is cut off from the frame header on, before its payload is buffered.
 * `_receiver._maxPayload` is ws's own field (ws 8); the pre-auth tests fail if it moves.
 */
const raiseMaxPayload = (ws: WebSocket, bytes: number): void => {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: number } })._receiver
  if (receiver !== undefined && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes
}

/**
 * Serves a replica over WebSocket on an existing HTTP server. A request that offers the
 * `converge.v1` subprotocol gets the multiplexed framing; any other is a y-websocket
 * client, and the URL path (percent-decoded) names its document:
 * `ws://host:port/<doc>`.
 *
 * ```ts
 * const wss = new ReplicaWebSocketServer(replica)
 * httpServer.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head))
 * ```
 */
export class ReplicaWebSocketServer {
  readonly wss: WebSocketServer
  /** converge.v1 upgrades: frames are capped at the pre-auth size until the hello is accepted. */
  private readonly muxWss: WebSocketServer
  private readonly replica: Replica
  private readonly options: ReplicaWebSocketServerOptions & typeof DEFAULT_SERVER_OPTIONS
  private readonly transports = new Map<WebSocket, WebSocketTransport>()
  /** A socket's 'close' listener, one for all of them (`this` is the socket). */
  private readonly untrack: (this: WebSocket) => void
  private readonly pinger: ReturnType<typeof setInterval>
  /** When the previous ping round ran. */
  private lastPing = Date.now()
  private closed = false

  constructor(replica: Replica, options: ReplicaWebSocketServerOptions = {}) {
    this.replica = replica
    this.options = { ...DEFAULT_SERVER_OPTIONS, ...definedOnly(options) }
    const handleProtocols = (protocols: Set<string>) => (protocols.has(MUX_PROTOCOL) ? MUX_PROTOCOL : false)
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols,
    })
    this.muxWss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.min(
        this.options.peer?.maxPreAuthBytes ?? DEFAULT_PEER_OPTIONS.maxPreAuthBytes,
        this.options.maxMessageBytes,
      ),
      perMessageDeflate: false,
      handleProtocols,
    })
    this.pinger = setInterval(() => this.ping(), this.options.pingInterval)
    this.pinger.unref()
    const transports = this.transports
    this.untrack = function (this: WebSocket) {
      transports.delete(this)
      clearFirstMessage(this)
    }
  }

  /** Open WebSocket connections. */
  get connections(): number {
    return this.transports.size
  }

  /** Takes over an HTTP upgrade request. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A function of its own: a closure here would keep this call's request (headers and
    // all) and head alive for as long as the socket lives.
    socket.on('error', destroyOnError)
    if (this.closed) {
      refuse(socket, 503, 'shutting down')
      return
    }
    const refusal = this.options.checkUpgrade?.(request)
    if (refusal !== undefined) {
      this.refuse(request, socket, 403, refusal)
      return
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())
    if (offered.includes(MUX_PROTOCOL)) {
      this.upgrade(this.muxWss, request, socket, head, (ws) => {
        const transport = this.track(ws, request)
        const peer = this.replica.accept(transport, {
          ...this.options.peer,
          framing: 'converge.v1',
          authorize:
            this.options.authorize === undefined
              ? undefined
              : (hello) => (this.options.authorize as NonNullable<typeof this.options.authorize>)(hello, request),
        })
        const raise = (status: string) => {
          if (status !== 'open') return
          raiseMaxPayload(ws, this.options.maxMessageBytes)
          peer.off('status', raise)
        }
        peer.on('status', raise)
        return peer
      })
      return
    }
    const doc = docNameOf(request.url ?? '/')
    if (doc === undefined) {
      this.refuse(request, socket, 400, 'the URL path must name a document')
      return
    }
    Promise.resolve()
      .then(() => (this.options.authorizeRequest ? this.options.authorizeRequest(request, doc) : fullAccess))
      .then((access) => {
        // The router's read rule, applied before the upgrade so the refusal is logged and
        // counted here (the router applies it again as the link opens).
        if (!mayReadDoc(access, doc, false)) throw new ConvergeError('CONVERGE_FORBIDDEN', `no read access to ${doc}`)
        this.upgrade(this.wss, request, socket, head, (ws) => {
          const transport = this.track(ws, request)
          this.expectFirstMessage(ws, transport)
          return this.replica.accept(transport, { ...this.options.peer, framing: { yWebsocketDoc: doc }, access })
        })
      })
      .catch((err) => {
        const status = isConvergeError(err, 'CONVERGE_FORBIDDEN') ? 403 : 401
        this.refuseWithCloseCode(request, socket, head, status)
      })
  }

  private upgrade(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    accept: (ws: WebSocket) => Peer,
  ): void {
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (this.closed) {
        ws.close(CloseCode.goingAway, 'shutting down')
        return
      }
      const peer = accept(ws)
      this.options.onPeer?.(peer, request)
    })
  }

  private track(ws: WebSocket, request: IncomingMessage): WebSocketTransport {
    const address = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`
    const transport = new WebSocketTransport(ws as unknown as WebSocketLike, address, { send: sendPrepared })
    this.transports.set(ws, transport)
    setAlive(ws, true)
    ws.on('pong', markAlive)
    // Any frame proves the socket alive: a pong may wait behind megabytes the peer is sending.
    ws.on('message', heard)
    ws.on('close', this.untrack)
    return transport
  }

  /** Closes a socket that stays silent after opening (it holds memory and a slot for nothing). */
  private expectFirstMessage(ws: WebSocket, transport: WebSocketTransport): void {
    const ms = this.options.firstMessageTimeout
    if (ms <= 0) return
    const timer = setTimeout(() => transport.close(CloseCode.heartbeatTimeout, 'no message'), ms)
    timer.unref?.()
    // The first message or the close clears it (the shared listeners of track), so nothing
    // of the timer stays with the socket, nor listeners of its own in ws's arrays.
    ;(ws as TrackedSocket)[kFirstMessage] = timer
  }

  private ping(): void {
    // A round that comes late means this process's event loop was busy: pongs that arrived
    // meanwhile may still wait unread behind this timer, so this round judges no socket.
    const now = Date.now()
    const late = now - this.lastPing > this.options.pingInterval * 1.5
    this.lastPing = now
    for (const ws of this.transports.keys()) {
      if (late) setAlive(ws, true)
      // A socket paused by flow control since the last ping was not read, so its pong may
      // not have been read yet: it counts as alive, and gets a fresh ping once read again.
      if (this.transports.get(ws)?.takePausedFlag()) {
        setAlive(ws, true)
        continue
      }
      if ((ws as TrackedSocket)[kAlive] === false) {
        this.transports.get(ws)?.close(CloseCode.heartbeatTimeout, 'no pong')
        ws.terminate()
        continue
      }
      setAlive(ws, false)
      try {
        ws.ping()
      } catch {
        // closing already
      }
    }
  }

  /**
   * Refuses a y-websocket client by completing the upgrade and closing with 4401 or 4403:
   * a stock client reads close codes, not HTTP statuses (a refused upgrade is retried for
   * ever), and stops on these (see the close-code table in packages/core/PROTOCOL.md).
   */
  private refuseWithCloseCode(request: IncomingMessage, socket: Duplex, head: Buffer, status: 401 | 403): void {
    const reason = status === 403 ? 'forbidden' : 'unauthorized'
    this.options.onRefused?.(request, status, reason)
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      ws.close(status === 403 ? CloseCode.forbidden : CloseCode.unauthorized, reason)
    })
  }

  private refuse(request: IncomingMessage, socket: Duplex, status: number, reason: string): void {
    this.options.onRefused?.(request, status, reason)
    refuse(socket, status, reason)
  }

  /** Closes every connection with 1001 (going away) and stops accepting. */
  async close(code: number = CloseCode.goingAway, reason = 'shutting down'): Promise<void> {
    this.closed = true
    clearInterval(this.pinger)
    for (const transport of this.transports.values()) transport.close(code, reason)
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    await new Promise<void>((resolve) => this.muxWss.close(() => resolve()))
  }
}

/** The document a y-websocket URL names: its path without the leading '/', percent-decoded. */
export const docNameOf = (url: string): string | undefined => {
  const path = url.split('?')[0] ?? ''
  let name = path.startsWith('/') ? path.slice(1) : path
  try {
    name = decodeURIComponent(name)
  } catch {
    return undefined
  }
  return isValidDocName(name) ? name : undefined
}

const refuse = (socket: Duplex, status: number, reason: string): void => {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

/**
 * Whether a socket was heard from since the last ping, kept on the socket itself: the
 * listeners that set it are shared by every socket (a closure per socket, with its scope,
 * cost ~0.2 KiB each), and nothing of it outlives the socket.
 */
const kAlive = Symbol('converge.alive')
/** The timer that closes a y-websocket socket silent since it opened (see firstMessageTimeout). */
const kFirstMessage = Symbol('converge.firstMessage')
type TrackedSocket = WebSocket & { [kAlive]?: boolean; [kFirstMessage]?: ReturnType<typeof setTimeout> }

const setAlive = (ws: WebSocket, alive: boolean): void => {
  ;(ws as TrackedSocket)[kAlive] = alive
}

const clearFirstMessage = (ws: WebSocket): void => {
  const timer = (ws as TrackedSocket)[kFirstMessage]
  if (timer === undefined) return
  clearTimeout(timer)
  ;(ws as TrackedSocket)[kFirstMessage] = undefined
}

/** A 'pong' listener: the socket (`this`) is alive. */
function markAlive(this: WebSocket): void {
  setAlive(this, true)
}

/** A 'message' listener: the socket (`this`) is alive, and it sent its first message. */
function heard(this: WebSocket): void {
  setAlive(this, true)
  clearFirstMessage(this)
}

/** An 'error' listener of an upgraded socket: the socket is destroyed (its 'close' follows). */
function destroyOnError(this: Duplex): void {
  this.destroy()
}
