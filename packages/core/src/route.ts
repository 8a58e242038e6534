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
import { SlowReaderGate } from './slow-reader.js'

/** What a link may be refused on a document (and told so once). */
export type Refusal = 'write' | 'presence'

/** One link as the router sees it: its sessions, anti-entropy, and what it was refused. */
export class Route implements SessionLink {
  readonly link: Link
  /** What this link was told it may not do, per document (told once per session; made on the first refusal). */
  private refusals: Map<string, Set<Refusal>> | undefined
  /** Made on first use: only mesh links compare inventories. */
  private madeAntiEntropy: AntiEntropy | undefined
  private readonly newAntiEntropy: (route: Route) => AntiEntropy
  /** Bytes of updates this link may still write (accepted client links; see maxUpdateBytesPerConnection). */
  readonly updateQuota: ByteQuota
  /** Both ends are relays (set when the link opens). */
  mesh = false
  onInventorySynced: (docs: number) => void = () => undefined
  private readonly policy: RolePolicy
  private readonly reportError: (err: unknown, context: string) => void
  private readonly registry: SessionRegistry<Route>

  constructor(
    registry: SessionRegistry<Route>,
    policy: RolePolicy,
    reportError: (err: unknown, context: string) => void,
    link: Link,
    antiEntropy: (route: Route) => AntiEntropy,
  ) {
    this.registry = registry
    this.policy = policy
    this.reportError = reportError
    this.link = link
    this.newAntiEntropy = antiEntropy
    this.updateQuota = new ByteQuota(link.config.limits.maxUpdateBytesPerConnection)
  }

  /** The link's anti-entropy (made on first use: only mesh links run one). */
  get antiEntropy(): AntiEntropy {
    this.madeAntiEntropy ??= this.newAntiEntropy(this)
    return this.madeAntiEntropy
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
    this.reportError(err, doc)
  }
}

/** The slow-reader policy of a relay's link (see slow-reader.ts). */
export const slowReaderGate = (route: Route): SlowReaderGate =>
  new SlowReaderGate(
    {
      bufferedAmount: () => route.link.bufferedAmount,
      stateOf: (doc) => route.sessions.get(doc)?.rdoc.stateVectorNow(),
      flush: (doc, stateVector) => {
        const session = route.sessions.get(doc)
        session?.rdoc.diff(stateVector).then(
          (update) => {
            if (route.sessions.get(doc) === session) session.sendUpdate(update)
          },
          (err) => route.fail(err),
        )
      },
      close: (code, reason) => {
        route.observer.protocolError?.(route.link.remote.remoteId, 'CONVERGE_LIMIT_EXCEEDED', code)
        route.link.drop(code, reason)
      },
    },
    route.link.config.limits.slowReaderBytes,
    route.link.config.limits.maxBufferedBytes,
  )
