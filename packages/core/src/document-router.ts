/**
 * Which document's bytes go to which link: the one place that decides. It maps (link,
 * document) to sessions, holds each link's anti-entropy, and checks access, for reads and
 * writes alike and whatever the remote's role. No other module consults an Access.
 */
import * as Y from 'yjs'
import type { Access } from './access.js'
import { AntiEntropy } from './anti-entropy.js'
import { DocSession, type DocSessionOptions } from './doc-session.js'
import { ConvergeError } from './errors.js'
import type { Link, PeerStatus } from './link.js'
import { carriesUpdate, type DocMessage, type InventoryEntry, type Message } from './messages.js'
import { DURABLE_ORIGIN, type ReplicaDoc } from './replica-doc.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { RolePolicy } from './role-policy.js'
import { Route, type RouteOwner, slowReaderGate } from './route.js'
import { SessionRegistry } from './session-registry.js'
import { docDeleted, isReservedDocName, TOMBSTONES_DOC } from './tombstones.js'

/** The replica's documents, as the router sees them. */
/**
 * Whether a peer with `access` may read `doc` (over a mesh link when `mesh`): the router's
 * rule, exported so that a server can refuse an upgrade by the same rule before a link exists.
 * The replica's own documents (the tombstones) cross mesh links only. Every mesh peer reads the
 * tombstones whatever its scope, so a delete reaches relays scoped to some documents too: it
 * learns the names of deleted documents, never content (SECURITY.md).
 */
export const mayReadDoc = (access: Access, doc: string, mesh: boolean): boolean => {
  if (isReservedDocName(doc)) return mesh && (doc === TOMBSTONES_DOC || access.canRead(doc))
  return access.canRead(doc)
}

export interface RouterDocs {
  /** The document `name`, made (cold) if `create` and missing. */
  get(name: string, create: boolean): ReplicaDoc | undefined
  /** Documents the app holds open (loaded). */
  open(): Iterable<ReplicaDoc>
  /** Documents in memory with presence: loaded, or served cold (cold-doc.ts). */
  inMemory(): Iterable<ReplicaDoc>
  /** Every document with its digest, for anti-entropy. */
  inventory(): Promise<InventoryEntry[]>
  /** The document was deleted (a tombstone, tombstones.ts): refused to everyone. */
  isDeleted(name: string): boolean
}

export interface RouterHooks {
  readonly observer: ReplicaObserver
  reportError(err: unknown, context: string): void
  /** A link opened or closed (after the router updated its sessions). */
  linksChanged(): void
  /** An upstream relay says the document was deleted: erase the local copy. */
  docDeletedUpstream(name: string): void
}

/** What an app sees of a document's upstream links. */
export interface UpstreamStatus {
  connection: 'offline' | 'connecting' | 'online'
  synced: boolean
  /** Some link (open or not) goes to an upstream relay. */
  hasUpstream: boolean
}

export class DocumentRouter {
  readonly policy: RolePolicy
  readonly hooks: RouterHooks
  private readonly docs: RouterDocs
  private readonly routes = new Map<Link, Route>()
  /** Every session, by link and by document: their one registry (session-registry.ts). */
  private readonly sessions = new SessionRegistry<Route>()
  private meshLinks = 0
  /** What every route asks of this router (route.ts): one object, not closures per link. */
  private readonly routeOwner: RouteOwner = {
    reportError: (err, context) => this.hooks.reportError(err, context),
    antiEntropyOf: (route) => this.antiEntropyOf(route),
  }

  constructor(policy: RolePolicy, docs: RouterDocs, hooks: RouterHooks) {
    this.policy = policy
    this.docs = docs
    this.hooks = hooks
  }

  // --- access: the only place it is decided ---------------------------------------

  private mayRead(route: Route, doc: string): boolean {
    return mayReadDoc(route.link.remote.access, doc, route.mesh)
  }

  private mayWrite(route: Route, doc: string): boolean {
    if (isReservedDocName(doc) && !route.mesh) return false
    return route.link.remote.access.canWrite(doc)
  }

  /** Presence is not content: read-only peers publish it too, unless their access says not. */
  private mayPublishPresence(route: Route, doc: string): boolean {
    return route.link.remote.access.canPublishPresence?.(doc) ?? true
  }

  // --- links ----------------------------------------------------------------------

  /** Routes documents over `link` from now on; call before the link starts. */
  add(link: Link, onInventorySynced: (docs: number) => void): void {
    const route = new Route(this.sessions, this.policy, this.routeOwner, link)
    route.onInventorySynced = onInventorySynced
    this.routes.set(link, route)
    link.on('status', (status) => this.linkStatus(route, status))
    link.on('message', (m) => this.receive(route, m))
  }

  private antiEntropyOf(route: Route): AntiEntropy {
    return new AntiEntropy({
      // The remote learns of no document it may not read, and syncs none.
      inventory: () =>
        this.docs
          .inventory()
          .then((all) => all.filter((e) => this.mayRead(route, e.doc) && !this.docs.isDeleted(e.doc))),
      send: (m) => route.send(m),
      sync: (doc) => {
        if (!this.mayRead(route, doc) || this.docs.isDeleted(doc)) return 'skip'
        const rdoc = this.docs.get(doc, true)
        if (rdoc === undefined) return 'skip'
        const session = this.share(route, rdoc, true)
        return session === undefined ? 'stop' : session.whenSynced()
      },
      done: (docs) => route.onInventorySynced(docs),
      reportError: (err, context) => this.hooks.reportError(err, context),
      concurrency: route.link.config.limits.antiEntropyConcurrency,
    })
  }

  private linkStatus(route: Route, status: PeerStatus): void {
    if (status === 'open') this.opened(route)
    else this.closed(route)
    if (status === 'closed') this.routes.delete(route.link)
    this.hooks.linksChanged()
  }

  private opened(route: Route): void {
    const { link } = route
    route.gate?.dispose()
    route.gate = this.policy.role === 'relay' ? slowReaderGate(route) : undefined
    route.mesh = this.policy.isMesh(link.remote.role)
    if (route.mesh) this.meshLinks++
    const sole = link.config.framing.soleDoc
    if (sole !== undefined) {
      // y-websocket framing: the socket is the document. An accepted socket that may not
      // have it is refused before the document is loaded for it.
      const refusal = this.docs.isDeleted(sole)
        ? docDeleted(sole)
        : this.mayRead(route, sole)
          ? undefined
          : new ConvergeError('CONVERGE_FORBIDDEN', `no read access to ${sole}`)
      if (refusal !== undefined && !link.config.initiator) {
        link.fail(refusal)
        return
      }
      const rdoc = this.docs.get(sole, !link.config.initiator)
      if (rdoc === undefined || (link.config.initiator && rdoc.appRefs === 0)) return
      if (refusal !== undefined) link.fail(refusal)
      // An accepted socket is a client on the document: it keeps it in memory while it
      // stays (unloaded, its session would end and the idle client miss every update).
      else this.share(route, rdoc, false, !link.config.initiator)
      return
    }
    if (link.config.initiator || !link.config.handshake) {
      for (const rdoc of this.docs.open()) this.share(route, rdoc, true)
    }
    if (route.mesh) {
      // Documents with presence may have no stored state (no inventory entry): share them
      // at once so presence crosses the new link. Stored content goes by the inventory.
      for (const rdoc of this.docs.inMemory()) {
        if ((rdoc.awareness?.size ?? 0) > 0) this.share(route, rdoc, true)
      }
      route.antiEntropy.start()
    }
  }

  private closed(route: Route): void {
    route.gate?.dispose()
    route.gate = undefined
    if (route.mesh) this.meshLinks--
    route.mesh = false
    for (const s of [...route.sessions.values()]) s.end(false)
    route.reset()
  }

  // --- documents the app opens and closes, and live forwarding ----------------------

  /** The app opened `rdoc`: share it on every open link. */
  docOpened(rdoc: ReplicaDoc): void {
    for (const route of this.routes.values()) this.share(route, rdoc, true)
  }

  /** The app closed `name`: stop sharing it, telling the remotes. */
  docClosed(name: string): void {
    for (const route of this.routes.values()) route.sessions.get(name)?.end(true)
  }

  /** `rdoc` changed on a relay: every mesh link that may read it gets a session, so the change streams on. */
  forward(rdoc: ReplicaDoc): void {
    // Called for every update and presence change: most relays have no mesh link open.
    if (this.meshLinks === 0 || !this.policy.streamsToMesh) return
    for (const route of this.routes.values()) {
      if (route.mesh && !route.sessions.has(rdoc.name)) this.share(route, rdoc, true)
    }
  }

  /**
   * Starts sharing `rdoc` on a link (if not already, and if the remote may read it); `notify`
   * sends subscribe; `holdsDoc`: the session keeps the document in memory (a client's).
   */
  private share(route: Route, rdoc: ReplicaDoc, notify: boolean, holdsDoc = false): DocSession | undefined {
    const existing = route.sessions.get(rdoc.name)
    if (existing !== undefined) return existing
    const { link } = route
    if (!link.isOpen || !this.mayRead(route, rdoc.name)) return undefined
    const upstream = link.config.upstream && link.remote.role === 'relay'
    return this.startSession(route, rdoc, {
      upstream,
      holdsDoc,
      replyFirst: !notify && link.config.handshake,
      notify,
    })
  }

  private startSession(
    route: Route,
    rdoc: ReplicaDoc,
    options: Pick<DocSessionOptions, 'upstream' | 'holdsDoc' | 'replyFirst'> & { notify: boolean },
  ): DocSession {
    const session = new DocSession(route, rdoc, {
      ...options,
      meshLink: route.mesh,
      maxBacklog: route.link.config.limits.maxBacklog,
      maxSyncChunkBytes: route.link.config.limits.maxSyncChunkBytes,
      maxAwarenessStates: route.link.config.limits.maxAwarenessStatesPerSession,
    })
    this.sessions.add(route, session)
    rdoc.sessionMoved(session)
    if (options.notify && route.link.config.framing.control) route.send({ type: 'subscribe', doc: rdoc.name })
    void session.start()
    return session
  }

  // --- what arrives ---------------------------------------------------------------

  private receive(route: Route, m: Message): void {
    switch (m.type) {
      case 'inventory-summary':
        if (!route.mesh) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'inventory from a non-relay peer')
        route.antiEntropy.answerSummary(m)
        return
      case 'inventory':
        if (!route.mesh) throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'inventory from a non-relay peer')
        route.antiEntropy.receive(m)
        return
      case 'error':
        if (m.code === 'CONVERGE_DOC_DELETED' && route.link.config.upstream) this.hooks.docDeletedUpstream(m.doc)
        route.sessions.get(m.doc)?.refused(`${m.code}: ${m.message}`)
        return
      case 'hello':
      case 'ping':
      case 'pong':
        return
      default:
        this.receiveDocMessage(route, m)
    }
  }

  private receiveDocMessage(route: Route, m: DocMessage): void {
    if (this.docs.isDeleted(m.doc)) {
      this.refuseDeleted(route, m)
      return
    }
    const { link } = route
    const existing = route.sessions.get(m.doc)
    if (existing !== undefined) {
      // Without a handshake the remote is a broadcast (every other tab): one tab leaving
      // the document must not end the session the remaining tabs share.
      if (m.type === 'unsubscribe') {
        if (link.config.handshake) existing.end(false)
      }
      // A subscribe to a document already shared. On a BroadcastChannel it is a new tab:
      // send our state vector again so its state reaches us. Between relays the peer may
      // have ended its side and started again while ours lived on (its unsubscribe and
      // ours crossed): it waits for our step 1 to learn what to send, so send it again;
      // we know it by having had its step 1 already. Otherwise both sides started at once
      // (its subscribe comes before its step 1), and each one's step 1 is on its way.
      else if (m.type === 'subscribe') {
        if (!link.config.handshake || (route.mesh && existing.receivedStep1)) existing.resync()
      } else this.deliver(route, existing, m)
      return
    }
    if (m.type === 'unsubscribe' || m.type === 'saved' || m.type === 'auth-denied') return
    if (route.mesh && m.type !== 'subscribe') {
      this.receiveLeftover(route, m)
      return
    }
    const session = this.acceptSession(route, m.doc)
    if (session !== undefined && m.type !== 'subscribe') this.deliver(route, session, m)
  }

  /**
   * A message for a deleted document: nothing of it is kept. A client is told (an error
   * frame when it starts a session; its y-websocket socket is closed with 4410); a mesh
   * peer that subscribes is answered with unsubscribe, and learns the tombstone by sync.
   */
  private refuseDeleted(route: Route, m: DocMessage): void {
    route.sessions.get(m.doc)?.end(false)
    const starts = m.type === 'subscribe' || m.type === 'sync-step1' || m.type === 'sync-step1-deletes'
    if (route.link.config.framing.soleDoc !== undefined) route.link.fail(docDeleted(m.doc))
    else if (route.mesh) {
      if (m.type === 'subscribe') route.send({ type: 'unsubscribe', doc: m.doc })
    } else if (starts) {
      const err = docDeleted(m.doc)
      route.send({ type: 'error', doc: m.doc, code: err.code, message: err.message })
    }
  }

  /** `name` was deleted here: its sessions end, and every client on it is told. */
  docDeleted(name: string): void {
    for (const route of this.routes.values()) {
      const session = route.sessions.get(name)
      if (session === undefined) continue
      session.end(route.mesh)
      // Only a relay's clients are told (a client erasing its copy tells nobody).
      if (route.mesh || route.link.config.initiator) continue
      const err = docDeleted(name)
      if (route.link.config.framing.soleDoc !== undefined) route.link.fail(err)
      else route.send({ type: 'error', doc: name, code: err.code, message: err.message })
    }
  }

  /** Hands `m` to its session; a write the remote may not make is dropped, and the remote told once. */
  private deliver(route: Route, session: DocSession, m: DocMessage): void {
    if (carriesUpdate(m) && !this.mayWrite(route, m.doc)) {
      if (route.firstRefusal(m.doc, 'write')) {
        route.send({ type: 'error', doc: m.doc, code: 'CONVERGE_FORBIDDEN', message: 'read-only access' })
      }
      return
    }
    if (m.type === 'awareness' && !this.mayPublishPresence(route, m.doc)) {
      if (route.firstRefusal(m.doc, 'presence')) {
        route.send({ type: 'error', doc: m.doc, code: 'CONVERGE_FORBIDDEN', message: 'no presence access' })
      }
      return
    }
    // One client link cannot fill the disk, whatever documents it writes, nor can all the
    // links of one token together (throws: 4513).
    if (carriesUpdate(m) && !route.mesh && !route.link.config.initiator) {
      route.updateQuota.charge(m.update.length)
      route.link.remote.access.chargeUpdate?.(m.update.length)
    }
    session.receive(m)
  }

  /**
   * On a mesh link a session starts with subscribe, so a message for a document without
   * one was sent on a session this side ended (its unsubscribe crossed the message).
   * Content is kept and a step 1 answered, but no session opens: two relays that unload
   * documents quickly would otherwise reopen each other's sessions for ever.
   */
  private receiveLeftover(route: Route, m: DocMessage): void {
    if (!this.mayRead(route, m.doc)) return
    const rdoc = this.docs.get(m.doc, true)
    if (rdoc === undefined) return
    if (carriesUpdate(m)) {
      if (this.mayWrite(route, m.doc)) rdoc.receiveUpdate(m.update, DURABLE_ORIGIN).catch((err) => route.fail(err))
    } else if (m.type === 'sync-step1' || m.type === 'sync-step1-deletes') {
      try {
        Y.decodeStateVector(m.stateVector)
      } catch (err) {
        throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'malformed state vector', { cause: err })
      }
      rdoc.diff(m.stateVector).then(
        (update) => route.send({ type: 'sync-step2', doc: m.doc, update }),
        (err) => route.fail(err),
      )
    }
  }

  /** The remote started sharing a document: join in if it may read it and this replica wants to. */
  private acceptSession(route: Route, name: string): DocSession | undefined {
    const { link } = route
    if (!this.mayRead(route, name)) {
      route.send({ type: 'error', doc: name, code: 'CONVERGE_FORBIDDEN', message: 'no read access' })
      return undefined
    }
    if (this.policy.sharesOnlyOpenDocs) {
      const rdoc = this.docs.get(name, false)
      if (rdoc === undefined || rdoc.appRefs === 0) return undefined
      // A relay never starts a session with a client: this is a late message of one the
      // client ended (a document closed and reopened). Subscribe, so the relay has one too.
      return this.share(route, rdoc, link.config.handshake)
    }
    const limit = link.config.limits.maxDocsPerConnection
    if (!route.mesh && route.sessions.size >= limit) {
      // Refuse this document alone: the client's other documents keep syncing.
      route.send({ type: 'error', doc: name, code: 'CONVERGE_LIMIT_EXCEEDED', message: `more than ${limit} documents` })
      return undefined
    }
    const rdoc = this.docs.get(name, true) as ReplicaDoc
    return this.startSession(route, rdoc, {
      upstream: false,
      holdsDoc: !route.mesh,
      replyFirst: link.config.handshake,
      notify: false,
    })
  }

  // --- what the app sees ----------------------------------------------------------

  /** The connection and sync state of document `name` over upstream links. */
  upstreamStatus(name: string): UpstreamStatus {
    let connection: UpstreamStatus['connection'] = 'offline'
    let synced = false
    let hasUpstream = false
    for (const { link, sessions } of this.routes.values()) {
      if (!link.config.upstream) continue
      hasUpstream = true
      if (link.isOpen) {
        connection = 'online'
        if (sessions.get(name)?.synced) synced = true
      } else if (link.status !== 'closed' && connection === 'offline') {
        connection = 'connecting'
      }
    }
    return { connection, synced, hasUpstream }
  }

  /** The sessions that share `rdoc`, on any link. */
  sessionsOf(rdoc: ReplicaDoc): ReadonlySet<DocSession> {
    return this.sessions.ofDoc(rdoc)
  }

  /** Breaks of the session registry's rules (session-registry.ts); empty when all hold. */
  sessionFaults(): string[] {
    return this.sessions.faults((route) => this.routes.get(route.link) === route && route.link.isOpen)
  }

  /** The documents shared over `link`, and whether each has synced. */
  sharedOver(link: Link): Array<{ doc: string; synced: boolean }> {
    const route = this.routes.get(link)
    return route === undefined ? [] : Array.from(route.sessions.values(), (s) => ({ doc: s.doc, synced: s.synced }))
  }
}
