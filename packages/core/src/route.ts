/**
 * One link as the document router sees it (document-router.ts): the link's sessions, its
 * anti-entropy, what it was refused, and its slow-reader gate. It decides no access.
 */
import type { PeerContext } from './access.js'
import type { AntiEntropy } from './anti-entropy.js'
import { ByteQuota } from './byte-quota.js'
import type { DocSession, SessionLink } from './doc-session.js'
import { ConvergeError } from './errors.js'
import type { Link } from './link.js'
import type { Message } from './messages.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { RolePolicy } from './role-policy.js'
import type { SessionRegistry } from './session-registry.js'
import { SlowReaderGate, type SlowReaderHost } from './slow-reader.js'

/** What a link may be refused on a document (and told so once). */
export type Refusal = 'write' | 'presence'

/** What a route asks of its router: one object for all the router's routes (no closures per link). */
export interface RouteOwner {
  reportError(err: unknown, context: string): void
  /** A new anti-entropy for `route` (made when first used). */
  antiEntropyOf(route: Route): AntiEntropy
}

const ignoreInventorySynced = (_docs: number): void => undefined

/** One link as the router sees it: its sessions, anti-entropy, and what it was refused. */
export class Route implements SessionLink {
  readonly link: Link
  /** What this link was told it may not do, per document (told once per session; made on the first refusal). */
  private refusals: Map<string, Set<Refusal>> | undefined
  /** Made on first use: only mesh links compare inventories. */
  private madeAntiEntropy: AntiEntropy | undefined
  /** Made on the first update the link writes. */
  private madeQuota: ByteQuota | undefined
  /** Both ends are relays (set when the link opens). */
  mesh = false
  onInventorySynced: (docs: number) => void = ignoreInventorySynced
  private readonly policy: RolePolicy
  private readonly owner: RouteOwner
  private readonly registry: SessionRegistry<Route>

  constructor(registry: SessionRegistry<Route>, policy: RolePolicy, owner: RouteOwner, link: Link) {
    this.registry = registry
    this.policy = policy
    this.owner = owner
    this.link = link
  }

  /** The link's anti-entropy (made on first use: only mesh links run one). */
  get antiEntropy(): AntiEntropy {
    this.madeAntiEntropy ??= this.owner.antiEntropyOf(this)
    return this.madeAntiEntropy
  }

  /** Bytes of updates this link may still write (accepted client links; see maxUpdateBytesPerConnection). */
  get updateQuota(): ByteQuota {
    this.madeQuota ??= new ByteQuota(this.link.config.limits.maxUpdateBytesPerConnection)
    return this.madeQuota
  }

  /** The link closed: anti-entropy (if it ever ran) starts over, and refusals are told again. */
  reset(): void {
    this.madeAntiEntropy?.reset()
    this.refusals = undefined
  }

  /** True the first time `what` is refused on `doc` in this session: the remote is told once. */
  firstRefusal(doc: string, what: Refusal): boolean {
    this.refusals ??= new Map()
    let told = this.refusals.get(doc)
    if (told === undefined) {
      told = new Set()
      this.refusals.set(doc, told)
    }
    if (told.has(what)) return false
    told.add(what)
    return true
  }

  /** This link's sessions by document (read from the router's registry, their one owner). */
  get sessions(): ReadonlyMap<string, DocSession> {
    return this.registry.ofRoute(this)
  }
  get observer(): ReplicaObserver {
    return this.link.config.observer
  }
  get context(): PeerContext | undefined {
    return this.link.remote.access.context
  }
  get sendsAcks(): boolean {
    return this.policy.acknowledges && this.link.config.framing.control
  }
  get sendsDeleteDigests(): boolean {
    return this.link.config.framing.control
  }
  get updatesAfterStep2(): boolean {
    return this.policy.updatesAfterStep2
  }
  /** The slow-reader policy of this link while open (relays only; slow-reader.ts). */
  gate: SlowReaderGate | undefined
  send(m: Message): void {
    if (this.gate?.intercept(m)) return
    this.link.send(m)
    this.gate?.check()
  }
  fail(err: unknown): void {
    this.link.fail(err)
  }
  inFlight(doc: string, bytes: number, done: Promise<unknown>): void {
    this.link.inFlight(doc, bytes, done)
  }
  bufferedAmount(): number | undefined {
    return this.link.bufferedAmount
  }
  /** The one removal path of a session: out of the registry, then its document lets it go. */
  sessionEnded(session: DocSession): void {
    if (!this.registry.remove(session)) return
    this.refusals?.delete(session.doc)
    session.rdoc.sessionEnded(session)
  }
  reportRefusal(doc: string, reason: string): void {
    const err = new ConvergeError('CONVERGE_FORBIDDEN', `${this.link.remote.remoteId} refused ${doc}: ${reason}`)
    this.link.emit('error', [err])
    this.owner.reportError(err, doc)
  }
}

/** The slow-reader policy of a relay's link (see slow-reader.ts). */
export const slowReaderGate = (route: Route): SlowReaderGate =>
  new SlowReaderGate(
    new RouteReader(route),
    route.link.config.limits.slowReaderBytes,
    route.link.config.limits.maxBufferedBytes,
  )

/** A route as its slow-reader gate sees it: one object of a class per link, not four closures. */
class RouteReader implements SlowReaderHost {
  private readonly route: Route

  constructor(route: Route) {
    this.route = route
  }

  bufferedAmount(): number | undefined {
    return this.route.link.bufferedAmount
  }

  stateOf(doc: string): ReadonlyMap<number, number> | undefined {
    return this.route.sessions.get(doc)?.rdoc.stateVectorNow()
  }

  flush(doc: string, stateVector: Uint8Array): void {
    const route = this.route
    const session = route.sessions.get(doc)
    session?.rdoc.diff(stateVector).then(
      (update) => {
        if (route.sessions.get(doc) === session) session.sendUpdate(update)
      },
      (err) => route.fail(err),
    )
  }

  close(code: number, reason: string): void {
    this.route.link.closeForError('CONVERGE_LIMIT_EXCEEDED', code, reason)
  }
}
