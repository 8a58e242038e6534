/**
 * The one registry of sessions: which session shares which document over which link.
 * The document router owns it and is the only writer (`add`, and `remove` when a session
 * ends); a ReplicaDoc reads its own sessions from it (`ofDoc`), a route its own (`ofRoute`).
 * So no second list exists to keep in step by hand.
 */
import type { DocSession } from './doc-session.js'
import type { ReplicaDoc } from './replica-doc.js'

const NO_SESSIONS: ReadonlySet<DocSession> = new Set()
const NO_ROUTE_SESSIONS: ReadonlyMap<string, DocSession> = new Map()

export class SessionRegistry<R extends object = object> {
  private readonly byRoute = new Map<R, Map<string, DocSession>>()
  private readonly byDoc = new Map<ReplicaDoc, Set<DocSession>>()
  private readonly routeOf = new Map<DocSession, R>()

  /** Registers `session` for its document on `route`; a route holds one session per document. */
  add(route: R, session: DocSession): void {
    const docs = this.byRoute.get(route) ?? new Map<string, DocSession>()
    this.byRoute.set(route, docs)
    if (docs.has(session.doc)) throw new Error(`a session for ${session.doc} is already registered on this link`)
    docs.set(session.doc, session)
    const sessions = this.byDoc.get(session.rdoc) ?? new Set<DocSession>()
    this.byDoc.set(session.rdoc, sessions)
    sessions.add(session)
    this.routeOf.set(session, route)
  }

  /** Unregisters `session`; false if it was not registered (already removed). */
  remove(session: DocSession): boolean {
    const route = this.routeOf.get(session)
    if (route === undefined) return false
    this.routeOf.delete(session)
    const docs = this.byRoute.get(route)
    docs?.delete(session.doc)
    if (docs?.size === 0) this.byRoute.delete(route)
    const sessions = this.byDoc.get(session.rdoc)
    sessions?.delete(session)
    if (sessions?.size === 0) this.byDoc.delete(session.rdoc)
    return true
  }

  /** The session of document `doc` on `route`, if any. */
  get(route: R, doc: string): DocSession | undefined {
    return this.byRoute.get(route)?.get(doc)
  }

  /** The sessions on `route`, by document name (a live view: copy it before ending them). */
  ofRoute(route: R): ReadonlyMap<string, DocSession> {
    return this.byRoute.get(route) ?? NO_ROUTE_SESSIONS
  }

  /** The sessions that share `rdoc` (a live view: copy it before ending them). */
  ofDoc(rdoc: ReplicaDoc): ReadonlySet<DocSession> {
    return this.byDoc.get(rdoc) ?? NO_SESSIONS
  }

  /**
   * What breaks the registry's rules (tests check it is empty): a registered session that
   * ended, or lives on a link that is gone (`live`), or that its document does not see as
   * exactly its sessions (`ReplicaDoc.sessions`).
   */
  faults(live: (route: R) => boolean): string[] {
    const faults: string[] = []
    for (const [session, route] of this.routeOf) {
      if (session.ended) faults.push(`${session.doc}: an ended session is still registered`)
      if (!live(route)) faults.push(`${session.doc}: a session outlives its link`)
      if (this.byRoute.get(route)?.get(session.doc) !== session) faults.push(`${session.doc}: not its link's session`)
    }
    for (const [rdoc, sessions] of this.byDoc) {
      const seen = rdoc.sessions
      const same = seen.size === sessions.size && [...sessions].every((s) => seen.has(s))
      if (!same) faults.push(`${rdoc.name}: the document sees ${seen.size} sessions, the registry has ${sessions.size}`)
    }
    return faults
  }
}
