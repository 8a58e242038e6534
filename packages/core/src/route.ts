/**
 * One link as the document router sees it (document-router.ts): the link's sessions, its
 * anti-entropy, what it was refused, and its slow-reader gate. It decides no access.
 */
import * as Y from 'yjs'
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

/** One link as the router sees it: its sessions, anti-entropy, and what it was refused. */
export class Route implements SessionLink {
  readonly link: Link
  readonly antiEntropy: AntiEntropy
  /** Documents whose writes this link was told it may not make (told once per session). */
  readonly writeDenied = new Set<string>()
  /** Documents whose presence this link was told it may not publish (told once per session). */
  readonly presenceDenied = new Set<string>()
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
    this.antiEntropy = antiEntropy(this)
    this.updateQuota = new ByteQuota(link.config.limits.maxUpdateBytesPerConnection)
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
  /** The one removal path of a session: out of the registry, then its document lets it go. */
  sessionEnded(session: DocSession): void {
    if (!this.registry.remove(session)) return
    this.writeDenied.delete(session.doc)
    this.presenceDenied.delete(session.doc)
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
      stateOf: (doc) => {
        const ydoc = route.sessions.get(doc)?.rdoc.doc
        return ydoc === undefined ? undefined : Y.decodeStateVector(Y.encodeStateVector(ydoc))
      },
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
