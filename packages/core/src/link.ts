import type { Access } from './access.js'
import type { BackoffOptions } from './backoff.js'
import { encodeFrame } from './broadcast.js'
import { CloseCode, closeCodeOf, errorOfFatalClose, isFatalCloseCode } from './close-codes.js'
import { Emitter } from './emitter.js'
import { ConvergeError } from './errors.js'
import { ConnectionFlow } from './flow-control.js'
import type { FrameStrategy } from './framing.js'
import { type HandshakeParams, handshake, helloOf, type LinkIdentity, reauthorize, tokenOf } from './handshake.js'
import { inboxChannel, newInbox, receiveDuringHandshake } from './handshake-inbox.js'
import { Heartbeat } from './heartbeat.js'
import { type LinkState, type PeerStatus, statusOf } from './link-state.js'
import { browserEvents, LinkTimers } from './link-timers.js'
import { LinkTransport } from './link-transport.js'
import { checkMessageLimits } from './message-limits.js'
import type { HelloMessage, Message } from './messages.js'
import type { DEFAULT_PEER_OPTIONS } from './peer-options.js'
import { peerText } from './peer-text.js'
import { RateLimiter } from './rate-limiter.js'
import type { ReplicaObserver } from './replica-observer.js'
import { type Connector, isConnector, type Transport } from './transport.js'

export type { PeerStatus } from './link-state.js'

/** Everything a link is told once, when made. */
export interface LinkConfig extends Omit<HandshakeParams, 'initiator'> {
  readonly initiator: boolean
  /** The remote is a relay this replica syncs to and saves to. */
  readonly upstream: boolean
  /** Exchange hello first (converge.v1 over a socket; not on a BroadcastChannel or y-websocket). */
  readonly handshake: boolean
  readonly framing: FrameStrategy
  /** The access of a remote that sends no hello. */
  readonly access: Access
  readonly limits: typeof DEFAULT_PEER_OPTIONS & { backoff?: BackoffOptions }
  readonly observer: ReplicaObserver
  /** The remote is exempt from the message pacing and flow ceilings (a mesh link), decided by the role policy. */
  readonly exemptFromRateLimit: (remote: LinkIdentity) => boolean
  /** What the links sharing per-document flow budgets have in common (their replica). */
  readonly flowScope: object
}

export interface LinkEvents {
  status: (status: PeerStatus) => void
  error: (err: ConvergeError) => void
  /** A decoded message past the handshake (not ping, pong or connection errors). */
  message: (m: Message) => void
}

const malformed = (message: string) => new ConvergeError('CONVERGE_MALFORMED_MESSAGE', message)

/**
 * Connections a link has closed for an error (see Link.countError), until their close
 * lands: a transport may report it a turn later, and errors still arriving meanwhile (more
 * bad frames, other writes of a failed batch) count nothing more. Weak: a transport is
 * forgotten with its link.
 */
const closedForError = new WeakSet<Transport>()

/**
 * One connection to a remote replica (or, on a BroadcastChannel, to the other tabs): it
 * dials and redials with backoff and jitter, frames messages, runs the handshake,
 * heartbeats and limits, and emits the decoded messages. It knows nothing of documents.
 */
export class Link extends Emitter<LinkEvents> {
  readonly config: LinkConfig
  /** Who the remote is: from the handshake once open, else what is known so far. */
  remote: LinkIdentity
  /** The last close code and reason. */
  lastClose: { code: number; reason: string } | undefined
  private state: LinkState = { kind: 'waiting' }
  /** Where transports come from: a connector (dials, redials) or the one accepted transport. */
  private readonly source: Transport | Connector
  private stopped = false
  /** The connect timeout and redial backoff (link-timers.ts). */
  private readonly timers = new LinkTimers()
  /** Pings, and fails the link when the remote falls silent (heartbeat.ts; made when first open with heartbeats). */
  private heartbeat: Heartbeat | undefined
  /** Flow control of the current transport (flow-control.ts). */
  private flow: ConnectionFlow | undefined
  /** @internal The remote is exempt from the pacing and flow ceilings (decided when open). */
  exempt = false
  /** Error frames from the remote that may still be reported (see remoteErrorsPerMinute; made on the first). */
  private remoteErrors: RateLimiter | undefined

  constructor(config: LinkConfig, link: Transport | Connector) {
    super()
    this.config = config
    this.remote = { remoteId: '', role: config.upstream ? 'relay' : 'client', access: config.access }
    this.source = link
  }

  /** Starts connecting; call once, after every listener is wired. */
  start(): void {
    if (!isConnector(this.source)) {
      this.use(this.source)
      return
    }
    // In a browser, the network coming back is the moment to redial, not the next backoff tick.
    this.onNetworkOnline = () => this.reconnect()
    browserEvents()?.addEventListener('online', this.onNetworkOnline)
    this.dial()
  }

  /** The connector that dials this link, if it dials (else it was accepted). */
  private get connector(): Connector | undefined {
    return isConnector(this.source) ? this.source : undefined
  }

  get status(): PeerStatus {
    return statusOf[this.state.kind]
  }

  get isOpen(): boolean {
    return this.state.kind === 'open'
  }

  // --- lifecycle ------------------------------------------------------------------

  private dial(): void {
    if (this.stopped || this.connector === undefined) return
    let transport: Transport
    try {
      transport = this.connector()
    } catch (err) {
      this.emit('error', [new ConvergeError('CONVERGE_INTERNAL', 'dialing failed', { cause: err })])
      this.scheduleReconnect()
      return
    }
    this.use(transport)
  }

  private use(transport: Transport): void {
    this.setState({ kind: 'connecting', transport })
    this.flow?.dispose()
    this.exempt = false
    const accepted = !this.config.initiator
    // Its events and flow control, dropped once the link moved on from it (link-transport.ts;
    // the link is its TransportOwner through @internal members, so not `implements` in the d.ts).
    const events = new LinkTransport(this, transport, accepted)
    this.flow = new ConnectionFlow(this.config.flowScope, this.config.limits, events, accepted)
    // Until the handshake completes, the connect timeout bounds the wait.
    this.timers.later(() => {
      if (this.current() === transport && this.state.kind !== 'open') {
        this.closeForError('CONVERGE_TIMEOUT', CloseCode.heartbeatTimeout, 'connect timeout')
      }
    }, this.config.limits.connectTimeout)
    transport.attach(events)
  }

  /** @internal `transport` is the current one (LinkTransport). */
  isCurrent(transport: Transport): boolean {
    return this.current() === transport
  }

  private current(): Transport | undefined {
    const s = this.state
    return s.kind === 'connecting' || s.kind === 'handshaking' || s.kind === 'open' ? s.transport : undefined
  }

  /** @internal The current transport opened (LinkTransport). */
  transportOpened(transport: Transport): void {
    this.heartbeat?.received()
    this.remote = { ...this.remote, remoteId: this.remote.remoteId || (transport.description ?? '') }
    if (!this.config.handshake) {
      this.opened(transport, this.remote, [])
      return
    }
    const inbox = newInbox()
    this.setState({ kind: 'handshaking', transport, inbox })
    const channel = inboxChannel(
      inbox,
      () => this.state.kind === 'handshaking' && this.state.transport === transport,
      (m) => this.send(m),
      (err) => this.emit('error', [err]),
    )
    handshake(channel, { ...this.config, initiator: this.config.initiator }).then(
      (identity) => {
        if (this.state.kind === 'handshaking' && this.state.transport === transport) {
          this.opened(transport, identity, inbox.held)
        }
      },
      (err) => {
        if (this.state.kind === 'handshaking' && this.state.transport === transport) this.fail(err)
      },
    )
  }

  private opened(transport: Transport, identity: LinkIdentity, held: Message[]): void {
    // The peer chose its id, and logs carry it: bounded, like all peer text.
    this.remote = { ...identity, remoteId: peerText(identity.remoteId, this.config.limits.maxPeerTextLength) }
    // The connect timeout has nothing left to bound (its timer would live on for nothing).
    this.timers.clear()
    this.timers.resetBackoff()
    this.exempt = this.config.exemptFromRateLimit(identity)
    this.setState({ kind: 'open', transport })
    this.config.observer.peerOpened?.(identity.remoteId, identity.role)
    // Heartbeats cross converge.v1 only (y-websocket and BroadcastChannel links have no ping).
    const interval = this.config.handshake ? this.config.limits.heartbeatInterval : 0
    if (interval > 0) {
      this.heartbeat ??= new Heartbeat({
        paused: () => this.flow?.paused === true,
        ping: () => this.send({ type: 'ping' }),
        timedOut: (timeout) => this.fail(new ConvergeError('CONVERGE_TIMEOUT', `nothing received for ${timeout} ms`)),
      })
      this.heartbeat.start(interval, () => this.config.limits.heartbeatTimeout)
    }
    for (const m of held) if (this.state.kind === 'open') this.handle(m)
  }

  /** @internal The current transport closed (LinkTransport). */
  transportClosed(code: number, reason: string): void {
    const wasOpen = this.state.kind === 'open'
    this.lastClose = { code, reason }
    this.flow?.dispose()
    this.flow = undefined
    this.heartbeat?.stop()
    this.timers.clear()
    if (wasOpen) this.config.observer.peerClosed?.(this.remote.remoteId, this.remote.role, code, reason)
    if (this.connector !== undefined && !this.stopped && isFatalCloseCode(code)) {
      this.stopped = true
      const err = new ConvergeError(errorOfFatalClose(code), `relay refused the connection: ${code} ${reason}`)
      this.emit('error', [err])
    }
    if (this.connector === undefined || this.stopped) {
      this.stopped = true
      this.unwatchNetwork()
      this.setState({ kind: 'closed' })
      return
    }
    this.scheduleReconnect()
  }

  /** Dials now when waiting between attempts, and starts the backoff over. */
  reconnect(): void {
    if (this.stopped || this.connector === undefined || this.state.kind !== 'waiting') return
    this.timers.clear()
    this.timers.resetBackoff()
    this.dial()
  }

  /** A browser's 'online' listener of a dialing link (made in start). */
  private onNetworkOnline: (() => void) | undefined

  private unwatchNetwork(): void {
    if (this.onNetworkOnline !== undefined) browserEvents()?.removeEventListener('online', this.onNetworkOnline)
  }

  private scheduleReconnect(): void {
    this.setState({ kind: 'waiting' })
    this.timers.redial(() => this.dial(), this.config.limits.backoff)
  }

  private setState(state: LinkState): void {
    const before = this.status
    this.state = state
    if (this.status !== before) this.emit('status', [this.status])
  }

  /** Closes the connection for good (no reconnect). */
  close(code: number = CloseCode.normal, reason = ''): void {
    this.stopped = true
    this.unwatchNetwork()
    this.timers.clear()
    const transport = this.current()
    if (transport !== undefined) transport.close(code, reason)
    else this.setState({ kind: 'closed' })
  }

  /**
   * Drops the current connection because of `err`: reports it (error event, observer, an
   * error frame where the framing has one) and closes with the code its error code maps
   * to, or `closeCode`. A dialing link reconnects unless the code is fatal.
   */
  fail(err: unknown, closeCode?: number): void {
    // Every decoder of a peer's bytes wraps its failures as CONVERGE_MALFORMED_MESSAGE
    // (4400); anything else that escapes, a bare lib0 decode error included, is this side's
    // fault (it misread its own bytes), and the peer may retry (4500).
    const e =
      err instanceof ConvergeError
        ? err
        : new ConvergeError('CONVERGE_INTERNAL', `internal error: ${(err as Error)?.message ?? err}`, { cause: err })
    const code = closeCode ?? closeCodeOf(e.code)
    const first = this.countError(e.code, code)
    this.emit('error', [e])
    const transport = this.current()
    if (!first || transport === undefined) return
    this.send({ type: 'error', doc: '', code: e.code, message: e.message.slice(0, 200) })
    transport.close(code, e.message.slice(0, 120))
  }

  /** Closes the current connection because of the error `errorCode`, counted (see countError). */
  closeForError(errorCode: string, closeCode: number, reason: string): void {
    if (this.countError(errorCode, closeCode)) this.current()?.close(closeCode, reason)
  }

  /**
   * Counts the error that closes the current connection (observer.protocolError): once a
   * connection, however many errors it makes before its close lands. False, and nothing
   * counted, once it is closing or closed: then there is nothing left to close.
   */
  private countError(errorCode: string, closeCode: number): boolean {
    const transport = this.current()
    if (transport === undefined || closedForError.has(transport)) return false
    closedForError.add(transport)
    this.config.observer.protocolError?.(this.remote.remoteId, errorCode, closeCode)
    return true
  }

  /**
   * Sends a fresh token in a new hello on an open converge.v1 link (dialing side), e.g.
   * before the current one expires: a relay closes a connection whose token expired (4401)
   * unless a refreshed one arrives within its grace. Without `token`, the token option is
   * asked again.
   */
  refreshToken(token?: string): void {
    if (!this.config.initiator || !this.config.handshake || this.state.kind !== 'open') return
    const transport = this.current()
    tokenOf(token ?? this.config.token).then(
      (t) => {
        if (this.state.kind === 'open' && this.current() === transport) this.send(helloOf(this.config, t))
      },
      (err) => this.emit('error', [err]),
    )
  }

  /** Authorizes a refreshed token (accepting side); a refused one closes the link. */
  private refreshed(theirs: HelloMessage): void {
    const transport = this.current()
    reauthorize(theirs, this.remote, this.config.authorize as NonNullable<LinkConfig['authorize']>).then(
      (identity) => {
        if (this.state.kind === 'open' && this.current() === transport) this.remote = identity
      },
      (err) => {
        if (this.current() === transport) this.fail(err)
      },
    )
  }

  /** One more error frame from the remote may be reported (a relay logs a flood of them as a trickle). */
  private takeRemoteError(): boolean {
    const perMinute = this.config.limits.remoteErrorsPerMinute
    this.remoteErrors ??= new RateLimiter(perMinute / 60, perMinute)
    return this.remoteErrors.take()
  }

  // --- frames ---------------------------------------------------------------------

  /** A received message for `doc` is in flight until `done` settles (flow control, see FlowOptions). */
  inFlight(doc: string, bytes: number, done: Promise<unknown>): void {
    this.flow?.track(doc, bytes, done)
  }

  /** Bytes queued on the current transport, not yet handed to the network (where it knows). */
  get bufferedAmount(): number | undefined {
    return this.current()?.bufferedAmount
  }

  /** Sends `m` if connected and the framing carries it; dropped otherwise. */
  send(m: Message): void {
    const transport = this.current()
    if (transport === undefined || transport.state !== 'open') return
    const frame = encodeFrame(this.config.framing, m)
    if (frame === undefined) return
    this.config.observer.messageOut?.(this.remote.remoteId, m.type, frame.length)
    transport.send(frame)
  }

  /** @internal A frame arrived on the current transport (LinkTransport). */
  transportFrame(data: Uint8Array): void {
    this.heartbeat?.received()
    const { observer, limits, framing } = this.config
    // Pacing: past the burst the link is paused, not closed; only a flood far past it closes (4529).
    if (this.flow !== undefined && !this.flow.received()) {
      observer.messageIn?.(this.remote.remoteId, 'invalid', data.length)
      return
    }
    const limit = this.state.kind === 'open' ? limits.maxMessageBytes : limits.maxPreAuthBytes
    if (data.length > limit) {
      observer.messageIn?.(this.remote.remoteId, 'invalid', data.length)
      const message = `message of ${data.length} bytes exceeds ${limit}`
      this.fail(new ConvergeError('CONVERGE_LIMIT_EXCEEDED', message), CloseCode.messageTooBig)
      return
    }
    let m: Message
    try {
      m = framing.decode(data)
      checkMessageLimits(m, limits)
    } catch (err) {
      observer.messageIn?.(this.remote.remoteId, 'invalid', data.length)
      this.fail(err)
      return
    }
    observer.messageIn?.(this.remote.remoteId, m.type, data.length)
    try {
      this.handle(m)
    } catch (err) {
      // Bytes that decoded but broke an invariant while handled: this peer's fault.
      this.fail(err)
    }
  }

  private handle(m: Message): void {
    const state = this.state
    if (state.kind === 'handshaking') {
      receiveDuringHandshake(state.inbox, m, this.config.initiator, this.config.limits.maxBacklog)
      return
    }
    if (state.kind !== 'open') return
    switch (m.type) {
      case 'hello':
        // An accepted remote refreshes its token with a later hello (see refreshToken).
        if (this.config.initiator || this.config.authorize === undefined) throw malformed('second hello')
        this.refreshed(m)
        return
      case 'ping':
        this.send({ type: 'pong' })
        return
      case 'pong':
        return
      case 'error': {
        // A relay logs what its peers report: a flood of them is cut to a trickle, each one short.
        if (!this.config.initiator && !this.takeRemoteError()) return
        const { maxPeerTextLength } = this.config.limits
        const bounded = { ...m, code: peerText(m.code, 64), message: peerText(m.message, maxPeerTextLength) }
        if (m.doc === '') {
          this.emit('error', [new ConvergeError('CONVERGE_FORBIDDEN', `${bounded.code}: ${bounded.message}`)])
          return
        }
        this.emit('message', [bounded])
        return
      }
    }
    this.emit('message', [m])
  }
}
