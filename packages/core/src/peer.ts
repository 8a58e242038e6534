import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import type { Access } from './access.js'
import { fullAccess } from './access.js'
import { type BackoffOptions, backoffDelay } from './backoff.js'
import { CloseCode, isFatalCloseCode } from './close-codes.js'
import { definedOnly } from './defined-only.js'
import { DocSession, type DocSessionOptions } from './doc-session.js'
import { ConvergeError, type ErrorCode } from './errors.js'
import { docsToSync, inventoryAnswer, summaryMessage } from './inventory.js'
import type {
  DocMessage,
  HelloMessage,
  InventoryEntry,
  InventoryMessage,
  InventorySummaryMessage,
  Message,
  PeerRole,
} from './messages.js'
import { decodeMuxFrame, encodeMuxFrame, PROTOCOL_VERSION } from './mux-codec.js'
import { RateLimiter } from './rate-limiter.js'
import { DURABLE_ORIGIN, type ReplicaDoc } from './replica-doc.js'
import type { ReplicaObserver } from './replica-observer.js'
import { type Connector, isConnector, type Transport } from './transport.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from './y-websocket-codec.js'

/** What a peer connection needs from its replica. */
export interface PeerHost {
  readonly peerId: string
  readonly role: PeerRole
  readonly observer: ReplicaObserver
  /** The replica's document `name`, made (cold) if `create` and missing. */
  docFor(name: string, create: boolean): ReplicaDoc | undefined
  /** Documents the app holds open: a dialing peer subscribes to each. */
  openDocs(): Iterable<ReplicaDoc>
  /** Documents loaded in memory. */
  docsInMemory(): Iterable<ReplicaDoc>
  /** This replica's documents with digests, for anti-entropy. */
  inventory(): Promise<InventoryEntry[]>
  peerStatusChanged(peer: Peer): void
  reportError(err: unknown, context: string): void
}

/** How frames are laid out on the connection. */
export type Framing = 'converge.v1' | { yWebsocketDoc: string }

export type PeerStatus = 'connecting' | 'handshaking' | 'open' | 'closed'

export interface PeerOptions {
  /** converge.v1 (default) or the y-websocket framing for one named document. */
  framing?: Framing
  /** A token sent in hello (converge.v1), or a function that returns one per connection. */
  token?: string | (() => string | Promise<string>)
  /**
   * The remote side is a relay this replica syncs to and saves to (the default when
   * dialing). Tabs on a BroadcastChannel are not.
   */
  upstream?: boolean
  /** Exchange hello first (default true for converge.v1; a BroadcastChannel has no handshake). */
  handshake?: boolean
  /** Interval between pings, in ms. Default 10_000; 0 turns heartbeats off. */
  heartbeatInterval?: number
  /** Close the connection when nothing arrived for this long, in ms. Default 30_000. */
  heartbeatTimeout?: number
  /**
   * Give up a connection attempt or handshake after this long, in ms: a dialer closes and
   * retries, an accepted peer that sent no hello by then is closed with 4408. Default 10_000.
   */
  connectTimeout?: number
  /** Largest accepted frame, in bytes. Default 16 MiB (a whole document may travel in one step 2). */
  maxMessageBytes?: number
  /** Largest first frame (the hello) before the peer is authenticated, in bytes. Default 64 KiB. */
  maxPreAuthBytes?: number
  /**
   * Most documents one client connection may have open at once. Default 1_000. A document
   * beyond it is refused alone with an error message (CONVERGE_LIMIT_EXCEEDED); mesh links
   * are exempt.
   */
  maxDocsPerConnection?: number
  /** Most messages held per document while it loads. Default 1_000. */
  maxBacklog?: number
  /**
   * Accepted client connections: sustained messages per second, beyond which the peer is
   * closed with 4429. Default 5_000; 0 turns the limit off. Mesh links are exempt.
   */
  maxMessagesPerSecond?: number
  /** Burst allowance of the rate limit, in messages. Default 20_000. */
  messageBurst?: number
  /** Reconnect delays, when dialing through a Connector. */
  backoff?: BackoffOptions
}

/** Options when accepting a connection (server side). */
export interface AcceptOptions extends Omit<PeerOptions, 'token' | 'upstream'> {
  /** Decides what a peer may do from its hello (converge.v1). Throw a coded error to refuse. */
  authorize?: (hello: HelloMessage) => Access | Promise<Access>
  /** The access of a peer that sends no hello (y-websocket framing), decided at upgrade. */
  access?: Access
}

export const DEFAULT_PEER_OPTIONS = {
  heartbeatInterval: 10_000,
  heartbeatTimeout: 30_000,
  connectTimeout: 10_000,
  maxMessageBytes: 16 * 1024 * 1024,
  maxPreAuthBytes: 64 * 1024,
  maxDocsPerConnection: 1_000,
  maxBacklog: 1_000,
  maxMessagesPerSecond: 5_000,
  messageBurst: 20_000,
  antiEntropyConcurrency: 16,
}

const closeCodeOf: Partial<Record<ErrorCode, number>> = {
  CONVERGE_MALFORMED_MESSAGE: CloseCode.malformed,
  CONVERGE_AUTH_DENIED: CloseCode.unauthorized,
  CONVERGE_FORBIDDEN: CloseCode.forbidden,
  CONVERGE_LIMIT_EXCEEDED: CloseCode.limitExceeded,
  CONVERGE_UNSUPPORTED_VERSION: CloseCode.unsupportedVersion,
  CONVERGE_STORE_WRITE_FAILED: CloseCode.storeFailure,
  CONVERGE_TIMEOUT: CloseCode.heartbeatTimeout,
  CONVERGE_INTERNAL: CloseCode.storeFailure,
}

interface PeerEvents {
  status: (status: PeerStatus, peer: Peer) => void
  error: (err: ConvergeError, peer: Peer) => void
  /** A mesh link finished syncing every document that differed after an inventory exchange. */
  'inventory-synced': (docs: number, peer: Peer) => void
}

/** The window's (or worker's) event target where there is one: not in Node. */
const browserEvents = () => {
  const target = globalThis as {
    addEventListener?: (type: string, fn: () => void) => void
    removeEventListener?: (type: string, fn: () => void) => void
  }
  return typeof target.addEventListener === 'function' && typeof target.removeEventListener === 'function'
    ? (target as Required<typeof target>)
    : undefined
}

const unref = (timer: unknown) => (timer as { unref?: () => void } | undefined)?.unref?.()

/**
 * A connection to one remote replica (or, on a BroadcastChannel, to the other tabs).
 * It frames and unframes messages, runs the hello handshake and heartbeats, keeps one
 * DocSession per shared document, runs anti-entropy between relays, and, when made
 * from a Connector, reconnects with backoff and jitter.
 */
export class Peer extends ObservableV2<PeerEvents> {
  status: PeerStatus = 'connecting'
  /** The remote side's peer id (from its hello), or a description of the transport. */
  remoteId = ''
  remoteRole: PeerRole
  /** The last close code and reason, or an error that stopped reconnecting. */
  lastClose: { code: number; reason: string } | undefined
  readonly sessions = new Map<string, DocSession>()
  readonly upstream: boolean
  readonly initiator: boolean

  private readonly host: PeerHost
  private readonly connector: Connector | undefined
  private readonly framing: Framing
  private readonly handshake: boolean
  private readonly options: typeof DEFAULT_PEER_OPTIONS & { backoff?: BackoffOptions }
  private readonly token: PeerOptions['token']
  private readonly authorize: AcceptOptions['authorize']
  private access: Access
  private transport: Transport | undefined
  private stopped = false
  private attempt = 0
  private timers: Array<ReturnType<typeof setTimeout>> = []
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private lastReceived = 0
  private readonly rateLimiter: RateLimiter | undefined
  private helloSent = false
  private authorizing = false
  private inventorySnapshot: Promise<InventoryEntry[]> | undefined
  private remoteInventory: { bucketBits: number; buckets: number[]; entries: InventoryEntry[] } | undefined
  private antiEntropyQueue: string[] = []
  private antiEntropyRunning = 0
  private antiEntropyTotal = 0

  constructor(
    host: PeerHost,
    link: Transport | Connector,
    options: PeerOptions & AcceptOptions & { initiator: boolean },
  ) {
    super()
    this.host = host
    this.initiator = options.initiator
    this.framing = options.framing ?? 'converge.v1'
    const isMux = this.framing === 'converge.v1'
    this.handshake = isMux && (options.handshake ?? true)
    this.upstream = options.upstream ?? options.initiator
    this.remoteRole = this.upstream ? 'relay' : 'client'
    this.token = options.token
    this.authorize = options.authorize
    this.access = options.access ?? fullAccess
    this.options = { ...DEFAULT_PEER_OPTIONS, ...definedOnly(options) }
    if (!this.handshake) this.options.heartbeatInterval = 0
    this.rateLimiter =
      !this.initiator && this.options.maxMessagesPerSecond > 0
        ? new RateLimiter(this.options.maxMessagesPerSecond, this.options.messageBurst)
        : undefined
    if (isConnector(link)) {
      this.connector = link
      // In a browser, the network coming back is the moment to redial, not the next backoff tick.
      browserEvents()?.addEventListener('online', this.onNetworkOnline)
      this.dial()
    } else {
      this.connector = undefined
      this.use(link)
    }
  }

  /** Both ends are relays: every document streams, and inventories are compared. */
  get meshLink(): boolean {
    return this.host.role === 'relay' && this.remoteRole === 'relay' && this.status === 'open'
  }

  get role(): PeerRole {
    return this.host.role
  }

  get observer(): ReplicaObserver {
    return this.host.observer
  }

  get sendsDeleteDigests(): boolean {
    return this.framing === 'converge.v1'
  }

  get sendsAcks(): boolean {
    return this.host.role === 'relay' && this.framing === 'converge.v1'
  }

  canWrite(doc: string): boolean {
    return this.access.canWrite(doc)
  }

  // --- connection lifecycle -------------------------------------------------------

  private dial(): void {
    if (this.stopped || this.connector === undefined) return
    let transport: Transport
    try {
      transport = this.connector()
    } catch (err) {
      this.host.reportError(err, 'dialing')
      this.scheduleReconnect()
      return
    }
    this.use(transport)
  }

  private use(transport: Transport): void {
    this.transport = transport
    this.helloSent = false
    this.authorizing = false
    this.setStatus('connecting')
    // Until the handshake completes, the connect timeout bounds the wait.
    this.later(() => {
      if (this.transport === transport && this.status !== 'open') {
        this.host.observer.protocolError?.(this.remoteId, 'CONVERGE_TIMEOUT', CloseCode.heartbeatTimeout)
        transport.close(CloseCode.heartbeatTimeout, 'connect timeout')
      }
    }, this.options.connectTimeout)
    transport.attach({
      onOpen: () => {
        if (this.transport === transport) this.onOpen()
      },
      onMessage: (data) => {
        if (this.transport === transport) this.onFrame(data)
      },
      onClose: (code, reason) => {
        if (this.transport === transport) this.onClose(code, reason)
      },
    })
  }

  private onOpen(): void {
    this.lastReceived = Date.now()
    this.remoteId ||= this.transport?.description ?? ''
    if (!this.handshake) {
      this.opened()
      return
    }
    this.setStatus('handshaking')
    if (this.initiator) this.sendHello()
  }

  private sendHello(): void {
    const token = this.token
    const send = (t: string) => {
      if (this.status !== 'handshaking') return
      this.helloSent = true
      this.send({ type: 'hello', version: PROTOCOL_VERSION, peerId: this.host.peerId, role: this.host.role, token: t })
    }
    if (typeof token === 'function') {
      Promise.resolve()
        .then(token)
        .then(send, (err) =>
          this.fail(new ConvergeError('CONVERGE_AUTH_DENIED', 'token provider failed', { cause: err })),
        )
    } else {
      send(token ?? '')
    }
  }

  private opened(): void {
    this.attempt = 0
    this.setStatus('open')
    this.host.observer.peerOpened?.(this.remoteId, this.remoteRole)
    if (this.options.heartbeatInterval > 0) {
      this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatInterval)
      unref(this.heartbeat)
    }
    if (typeof this.framing === 'object') {
      // y-websocket framing: the socket is the document.
      const name = this.framing.yWebsocketDoc
      const rdoc = this.host.docFor(name, !this.initiator)
      if (rdoc !== undefined && (!this.initiator || rdoc.appRefs > 0)) this.openSession(rdoc, false)
      return
    }
    if (this.initiator || !this.handshake) {
      for (const rdoc of this.host.openDocs()) this.openSession(rdoc, true)
    }
    if (this.meshLink) {
      // Documents with presence may have no stored state (no inventory entry): share them
      // at once so presence crosses the new link. Stored content goes by the inventory.
      for (const rdoc of this.host.docsInMemory()) {
        if ((rdoc.awareness?.getStates().size ?? 0) > 0) this.openSession(rdoc, true)
      }
      this.sendInventory()
    }
  }

  private beat(): void {
    if (Date.now() - this.lastReceived > this.options.heartbeatTimeout) {
      this.fail(new ConvergeError('CONVERGE_TIMEOUT', `nothing received for ${this.options.heartbeatTimeout} ms`))
      return
    }
    this.send({ type: 'ping' })
  }

  private onClose(code: number, reason: string): void {
    const wasOpen = this.status === 'open'
    this.transport = undefined
    this.lastClose = { code, reason }
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat)
    this.heartbeat = undefined
    this.clearTimers()
    for (const s of [...this.sessions.values()]) s.end(false)
    this.sessions.clear()
    this.remoteInventory = undefined
    this.inventorySnapshot = undefined
    this.antiEntropyQueue = []
    this.antiEntropyRunning = 0
    if (wasOpen) this.host.observer.peerClosed?.(this.remoteId, this.remoteRole, code, reason)
    if (this.connector !== undefined && !this.stopped && isFatalCloseCode(code)) {
      this.stopped = true
      this.emit('error', [
        new ConvergeError('CONVERGE_AUTH_DENIED', `relay refused the connection: ${code} ${reason}`),
        this,
      ])
    }
    if (this.connector === undefined || this.stopped) {
      this.stopped = true
      browserEvents()?.removeEventListener('online', this.onNetworkOnline)
      this.setStatus('closed')
      return
    }
    this.scheduleReconnect()
  }

  /**
   * Dials now when waiting between reconnect attempts, and starts the backoff over. For
   * when the app knows the network is back; a browser's 'online' event does it on its own.
   */
  reconnect(): void {
    if (this.stopped || this.connector === undefined || this.transport !== undefined) return
    this.clearTimers()
    this.attempt = 0
    this.dial()
  }

  private readonly onNetworkOnline = (): void => this.reconnect()

  private scheduleReconnect(): void {
    this.setStatus('connecting')
    const delay = backoffDelay(this.attempt++, this.options.backoff)
    this.later(() => this.dial(), delay, false)
  }

  private later(fn: () => void, ms: number, weak = true): void {
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t)
      fn()
    }, ms)
    if (weak) unref(t)
    this.timers.push(t)
  }

  private setStatus(status: PeerStatus): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', [status, this])
    this.host.peerStatusChanged(this)
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers = []
  }

  /** Closes the connection for good (no reconnect). */
  close(code: number = CloseCode.normal, reason = ''): void {
    this.stopped = true
    browserEvents()?.removeEventListener('online', this.onNetworkOnline)
    this.clearTimers()
    if (this.transport !== undefined) this.transport.close(code, reason)
    else this.setStatus('closed')
  }

  /** Drops the current connection because of `err`; a dialing peer reconnects unless the code is fatal. */
  fail(err: unknown): void {
    // Decoders wrap their own failures as CONVERGE_MALFORMED_MESSAGE; anything else that
    // escapes is this side's fault, and the peer may retry.
    const e =
      err instanceof ConvergeError
        ? err
        : new ConvergeError('CONVERGE_INTERNAL', `internal error: ${(err as Error)?.message ?? err}`, { cause: err })
    const code = closeCodeOf[e.code] ?? CloseCode.malformed
    this.host.observer.protocolError?.(this.remoteId, e.code, code)
    this.emit('error', [e, this])
    const transport = this.transport
    if (transport === undefined) return
    if (this.framing === 'converge.v1') {
      this.send({ type: 'error', doc: '', code: e.code, message: e.message.slice(0, 200) })
    }
    transport.close(code, e.message.slice(0, 120))
  }

  // --- frames ---------------------------------------------------------------------

  send(m: Message): void {
    const transport = this.transport
    if (transport === undefined || transport.state !== 'open') return
    let frame: Uint8Array
    if (this.framing === 'converge.v1') {
      frame = encodeMuxFrame(m)
    } else {
      if (!isYMessage(m)) return
      frame = encodeYWebsocketFrame(m)
    }
    this.host.observer.messageOut?.(this.remoteId, m.type, frame.length)
    transport.send(frame)
  }

  private onFrame(data: Uint8Array): void {
    this.lastReceived = Date.now()
    if (this.rateLimiter !== undefined && !this.meshLink && !this.rateLimiter.take()) {
      this.host.observer.messageIn?.(this.remoteId, 'invalid', data.length)
      this.host.observer.protocolError?.(this.remoteId, 'CONVERGE_RATE_LIMITED', CloseCode.rateLimited)
      this.transport?.close(CloseCode.rateLimited, `more than ${this.options.maxMessagesPerSecond} messages per second`)
      return
    }
    const limit = this.status === 'open' ? this.options.maxMessageBytes : this.options.maxPreAuthBytes
    if (data.length > limit) {
      this.host.observer.messageIn?.(this.remoteId, 'invalid', data.length)
      this.host.observer.protocolError?.(this.remoteId, 'CONVERGE_LIMIT_EXCEEDED', CloseCode.messageTooBig)
      this.transport?.close(CloseCode.messageTooBig, `message of ${data.length} bytes exceeds ${limit}`)
      return
    }
    let m: Message
    try {
      m =
        this.framing === 'converge.v1' ? decodeMuxFrame(data) : decodeYWebsocketFrame(data, this.framing.yWebsocketDoc)
    } catch (err) {
      this.host.observer.messageIn?.(this.remoteId, 'invalid', data.length)
      this.fail(err)
      return
    }
    this.host.observer.messageIn?.(this.remoteId, m.type, data.length)
    try {
      this.dispatch(m)
    } catch (err) {
      // Bytes that decoded but broke an invariant while handled: this peer's fault.
      this.fail(err)
    }
  }

  private dispatch(m: Message): void {
    if (this.status === 'handshaking') {
      if (m.type === 'error' && this.initiator) {
        // The relay refuses us (bad token, version); its close with the matching code follows.
        this.emit('error', [new ConvergeError('CONVERGE_AUTH_DENIED', `${m.code}: ${m.message}`), this])
        return
      }
      if (m.type !== 'hello') throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `${m.type} before hello`)
      this.receiveHello(m)
      return
    }
    if (this.status !== 'open') return
    switch (m.type) {
      case 'hello':
        throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'second hello')
      case 'ping':
        this.send({ type: 'pong' })
        return
      case 'pong':
        return
      case 'inventory-summary':
        this.answerInventorySummary(m)
        return
      case 'inventory':
        this.receiveInventory(m)
        return
      case 'error':
        if (m.doc === '') this.emit('error', [new ConvergeError('CONVERGE_FORBIDDEN', `${m.code}: ${m.message}`), this])
        else this.sessions.get(m.doc)?.refused(`${m.code}: ${m.message}`)
        return
      default:
        this.receiveDocMessage(m)
    }
  }

  private receiveHello(hello: HelloMessage): void {
    if (hello.version !== PROTOCOL_VERSION) {
      throw new ConvergeError('CONVERGE_UNSUPPORTED_VERSION', `protocol version ${hello.version} is not supported`)
    }
    if (this.initiator) {
      if (!this.helloSent) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'hello before ours')
      this.remoteId = hello.peerId
      this.remoteRole = hello.role
      this.opened()
      return
    }
    // Accepting: nothing else may arrive until the authorization is decided.
    if (this.authorizing) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'message before hello was accepted')
    this.authorizing = true
    const transport = this.transport
    Promise.resolve()
      .then(() => (this.authorize === undefined ? fullAccess : this.authorize(hello)))
      .then(
        (access) => {
          if (this.transport !== transport) return
          this.authorizing = false
          this.access = access
          this.remoteId = hello.peerId
          this.remoteRole = hello.role
          this.helloSent = true
          this.send({
            type: 'hello',
            version: PROTOCOL_VERSION,
            peerId: this.host.peerId,
            role: this.host.role,
            token: '',
          })
          this.opened()
        },
        (err) => {
          if (this.transport !== transport) return
          this.fail(
            err instanceof ConvergeError
              ? err
              : new ConvergeError('CONVERGE_AUTH_DENIED', 'authorization failed', { cause: err }),
          )
        },
      )
  }

  // --- documents ------------------------------------------------------------------

  /** Starts sharing `rdoc` on this connection (if not already), telling the remote with subscribe. */
  openSession(rdoc: ReplicaDoc, notify: boolean): DocSession | undefined {
    const existing = this.sessions.get(rdoc.name)
    if (existing !== undefined) return existing
    if (this.status !== 'open') return undefined
    const upstream = this.upstream && this.remoteRole === 'relay'
    return this.startSession(rdoc, { upstream, holdsDoc: false, replyFirst: !notify && this.handshake }, notify)
  }

  /** Creates and starts the session of `rdoc` on this connection; with `notify`, sends subscribe first. */
  private startSession(
    rdoc: ReplicaDoc,
    options: Pick<DocSessionOptions, 'upstream' | 'holdsDoc' | 'replyFirst'>,
    notify: boolean,
  ): DocSession {
    const session = new DocSession(this, rdoc, {
      ...options,
      meshLink: this.meshLink,
      maxBacklog: this.options.maxBacklog,
    })
    this.sessions.set(rdoc.name, session)
    if (notify && this.framing === 'converge.v1') this.send({ type: 'subscribe', doc: rdoc.name })
    void session.start()
    return session
  }

  /** Stops sharing a document, telling the remote. */
  closeSession(name: string): void {
    this.sessions.get(name)?.end(true)
  }

  reportRefusal(doc: string, reason: string): void {
    const err = new ConvergeError('CONVERGE_FORBIDDEN', `${this.remoteId} refused ${doc}: ${reason}`)
    this.emit('error', [err, this])
    this.host.reportError(err, doc)
  }

  sessionEnded(session: DocSession): void {
    if (this.sessions.get(session.doc) === session) this.sessions.delete(session.doc)
  }

  private receiveDocMessage(m: DocMessage): void {
    const existing = this.sessions.get(m.doc)
    if (existing !== undefined) {
      // Without a handshake the remote is a broadcast (every other tab): one tab leaving
      // the document must not end the session the remaining tabs share.
      if (m.type === 'unsubscribe') {
        if (this.handshake) existing.end(false)
      }
      // A subscribe to a document already shared. On a BroadcastChannel it is a new tab:
      // send our state vector again so its state reaches us. Between relays the peer may
      // have ended its side and started again while ours lived on (its unsubscribe and
      // ours crossed): it waits for our step 1 to learn what to send, so send it again;
      // we know it by having had its step 1 already. Otherwise both sides started at once
      // (its subscribe comes before its step 1), and each one's step 1 is on its way.
      else if (m.type === 'subscribe') {
        if (!this.handshake || (this.meshLink && existing.receivedStep1)) existing.resync()
      } else existing.receive(m)
      return
    }
    if (m.type === 'unsubscribe' || m.type === 'saved' || m.type === 'auth-denied') return
    if (this.meshLink && m.type !== 'subscribe') {
      this.receiveLeftover(m)
      return
    }
    const session = this.acceptSession(m.doc)
    if (session !== undefined && m.type !== 'subscribe') session.receive(m)
  }

  /**
   * On a mesh link a session starts with subscribe, so a message for a document without
   * one was sent on a session this side ended (its unsubscribe crossed the message).
   * Content is kept and a step 1 answered, but no session opens: two relays that unload
   * documents quickly would otherwise reopen each other's sessions for ever.
   */
  private receiveLeftover(m: DocMessage): void {
    if (!this.access.canRead(m.doc)) return
    const rdoc = this.host.docFor(m.doc, true)
    if (rdoc === undefined) return
    if (m.type === 'sync-step2' || m.type === 'update') {
      if (this.access.canWrite(m.doc)) rdoc.receiveUpdate(m.update, DURABLE_ORIGIN).catch((err) => this.fail(err))
    } else if (m.type === 'sync-step1' || m.type === 'sync-step1-deletes') {
      try {
        Y.decodeStateVector(m.stateVector)
      } catch (err) {
        throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'malformed state vector', { cause: err })
      }
      rdoc.diff(m.stateVector).then(
        (update) => this.send({ type: 'sync-step2', doc: m.doc, update }),
        (err) => this.fail(err),
      )
    }
  }

  /** The remote started sharing a document: join in if this replica may and wants to. */
  private acceptSession(name: string): DocSession | undefined {
    if (this.host.role === 'client') {
      // A client shares only what its app has open.
      const rdoc = this.host.docFor(name, false)
      if (rdoc === undefined || rdoc.appRefs === 0) return undefined
      // A relay never starts a session with a client: this is a late message of one the
      // client ended (a document closed and reopened). Subscribe, so the relay has one too.
      return this.openSession(rdoc, this.handshake)
    }
    if (!this.access.canRead(name)) {
      this.send({ type: 'error', doc: name, code: 'CONVERGE_FORBIDDEN', message: 'no read access' })
      return undefined
    }
    if (!this.meshLink && this.sessions.size >= this.options.maxDocsPerConnection) {
      // Refuse this document alone: the client's other documents keep syncing.
      const limit = this.options.maxDocsPerConnection
      this.send({ type: 'error', doc: name, code: 'CONVERGE_LIMIT_EXCEEDED', message: `more than ${limit} documents` })
      return undefined
    }
    const rdoc = this.host.docFor(name, true) as ReplicaDoc
    return this.startSession(rdoc, { upstream: false, holdsDoc: !this.meshLink, replyFirst: this.handshake }, false)
  }

  // --- anti-entropy between relays -------------------------------------------------

  /** This replica's inventory for the current connection: one snapshot answers both rounds. */
  private localInventory(): Promise<InventoryEntry[]> {
    this.inventorySnapshot ??= this.host.inventory()
    return this.inventorySnapshot
  }

  private sendInventory(): void {
    this.localInventory().then(
      (entries) => this.send(summaryMessage(entries)),
      (err) => this.host.reportError(err, 'building inventory'),
    )
  }

  private answerInventorySummary(summary: InventorySummaryMessage): void {
    if (!this.meshLink) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'inventory from a non-relay peer')
    this.localInventory().then(
      (entries) => {
        for (const page of inventoryAnswer(entries, summary)) this.send(page)
      },
      (err) => this.host.reportError(err, 'building inventory'),
    )
  }

  private receiveInventory(m: InventoryMessage): void {
    if (!this.meshLink) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'inventory from a non-relay peer')
    this.remoteInventory ??= { bucketBits: m.bucketBits, buckets: [], entries: [] }
    const acc = this.remoteInventory
    acc.buckets.push(...m.buckets)
    acc.entries.push(...m.entries)
    if (!m.final) return
    this.remoteInventory = undefined
    this.localInventory().then(
      (local) => {
        const differing = docsToSync(local, acc.entries, acc.bucketBits, acc.buckets)
        this.antiEntropyQueue.push(...differing)
        this.antiEntropyTotal = differing.length
        this.pumpAntiEntropy()
      },
      (err) => this.host.reportError(err, 'building inventory'),
    )
  }

  /** Syncs differing documents a few at a time, so a large inventory does not load everything at once. */
  private pumpAntiEntropy(): void {
    while (this.antiEntropyRunning < this.options.antiEntropyConcurrency && this.antiEntropyQueue.length > 0) {
      const name = this.antiEntropyQueue.shift() as string
      const rdoc = this.host.docFor(name, true)
      if (rdoc === undefined) continue
      const session = this.openSession(rdoc, true)
      if (session === undefined) return
      this.antiEntropyRunning++
      session.whenSynced().then(() => {
        this.antiEntropyRunning--
        this.pumpAntiEntropy()
      })
    }
    if (this.antiEntropyRunning === 0 && this.antiEntropyQueue.length === 0 && this.antiEntropyTotal >= 0) {
      const total = this.antiEntropyTotal
      this.antiEntropyTotal = -1
      this.emit('inventory-synced', [total, this])
    }
  }
}

const isYMessage = (
  m: Message,
): m is Extract<
  DocMessage,
  { type: 'sync-step1' | 'sync-step2' | 'update' | 'awareness' | 'query-awareness' | 'auth-denied' }
> =>
  m.type === 'sync-step1' ||
  m.type === 'sync-step2' ||
  m.type === 'update' ||
  m.type === 'awareness' ||
  m.type === 'query-awareness' ||
  m.type === 'auth-denied'
