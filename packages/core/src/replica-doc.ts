import * as Y from 'yjs'
import type { PeerContext } from './access.js'
import { AppendMetaTracker } from './append-meta.js'
import { type AdmittedAwareness, AwarenessGuard } from './awareness-guard.js'
import { ColdDoc } from './cold-doc.js'
import { type DeleteDigests, deleteSetOfUpdate } from './delete-set-chunks.js'
import {
  type AwarenessChange,
  admitPresence,
  encodeAllAwarenessStates,
  presenceDelay,
  removeOrphanedPresence,
} from './doc-awareness.js'
import { deleteDigestsOf, diffOfDoc, diffOfStored } from './doc-diff.js'
import { DocFanOut } from './doc-fan-out.js'
import { DocHolds } from './doc-holds.js'
import type { DocPresence } from './doc-presence.js'
import { seedNewDoc } from './doc-seed.js'
import { DocSize } from './doc-size.js'
import type { DocState } from './doc-state.js'
import { applyInOneTransaction, type DecodedUpdate as Decoded, DurableApply, notApplied } from './durable-apply.js'
import type { EncodedDoc } from './encoded-doc.js'
import { ConvergeError } from './errors.js'
import { forwardFirst, sentFirst } from './forward-as-received.js'
import { LocalEditWrites } from './local-edit-writes.js'
import { newPresence } from './new-presence.js'
import { isRedundantUpdate } from './redundant-update.js'
import { type AttachedSession, type DocHost, DURABLE_ORIGIN, LOAD_ORIGIN } from './replica-doc-host.js'
import { SaveTracker } from './save-tracker.js'
import { checkUnlessRefused } from './session-refusals.js'
import { EMPTY_UPDATE } from './state-digest.js'
import { loadStoredDoc } from './stored-doc.js'
import { storedPartCheck, validateUpdate } from './update-validation.js'

export { diffOfDoc } from './doc-diff.js'
export {
  type AttachedSession,
  type DocHost,
  DURABLE_ORIGIN,
  LOAD_ORIGIN,
  type StatelessSender,
} from './replica-doc-host.js'

/**
 * One document inside a replica: the Y.Doc (once warm), its awareness, the sessions
 * that share it with peers, and the bookkeeping for durability and save status.
 *
 * A document is cold (known, no Y.Doc in memory: sync step 1 is answered from the
 * store) or warm (loaded). Remote updates take one path either way: validate, append to
 * the store, and only once the append resolved apply to the Y.Doc. So the Y.Doc holds
 * nothing that is not durable, and whatever it emits (forwarded to other sessions,
 * served to new ones) is durable before anyone sees it.
 */
export class ReplicaDoc {
  readonly name: string
  /** Times the app opened the document and has not closed it. */
  appRefs = 0
  /** Local changes and what upstream relays confirmed of them (clients). */
  readonly saves: SaveTracker
  /** Who keeps the document in memory; the last to let go releases it. */
  readonly holds: DocHolds
  /** Which session speaks for which presence id (relays). */
  readonly awarenessGuard = new AwarenessGuard()

  private state: DocState = { kind: 'cold' }
  private readonly host: DocHost
  /** Its delete set, shared sync answers and merged presence (doc-fan-out.ts). */
  readonly fanOut = new DocFanOut()
  /** The change-log metadata of appends (used only when the store keeps a change log). */
  private readonly appendMeta = new AppendMetaTracker()
  private readonly size: DocSize
  private readonly applies: DurableApply
  private readonly localEdits: LocalEditWrites

  constructor(host: DocHost, name: string) {
    this.host = host
    this.name = name
    this.saves = new SaveTracker(() => host.statusChanged(this))
    this.holds = new DocHolds(host.policy.unloadDelay(host.unloadDelay), () => host.unloaded(this))
    this.size = new DocSize(host.maxDocBytes)
    this.localEdits = new LocalEditWrites(host, name, this.appendMeta, () => (this.destroyed ? undefined : this.doc))
    this.applies = new DurableApply((u, o, d) => this.applyRun(u, o, d), host.maxMergedUpdateBytes)
  }

  /** The app opened the document once more. */
  retain(): void {
    this.appRefs++
    this.holds.hold(APP)
  }

  /** The app closed one open of the document. */
  release(): void {
    if (this.appRefs === 0) return
    this.appRefs--
    if (this.appRefs === 0) this.holds.let(APP)
  }

  /** The sessions that share this document: the router's registry is their one owner. */
  get sessions(): ReadonlySet<AttachedSession> {
    return this.host.sessionsOf(this)
  }

  /** The Y.Doc, once loaded (warm). */
  get doc(): Y.Doc | undefined {
    return 'doc' in this.state ? this.state.doc : undefined
  }
  /** The document's presence, once loaded or needed (a relay serving it cold). */
  get awareness(): DocPresence | undefined {
    return 'awareness' in this.state ? this.state.awareness : this.served()?.awareness
  }
  /** The encoded state a relay serves the document from while it has no Y.Doc (cold-doc.ts). */
  get encoded(): EncodedDoc | undefined {
    return this.doc === undefined ? this.served()?.loaded : undefined
  }
  /** The presence, made now on a document a relay serves cold (undefined: load the document). */
  presence(): DocPresence | undefined {
    return this.awareness ?? this.served(true)?.presence()
  }
  /** What serves the document without a Y.Doc: made on first need (`make`) on a relay with coldDocs. */
  private served(make = false): ColdDoc | undefined {
    const state = this.state
    if (state.kind === 'cold' && make && this.host.coldDocs)
      state.served ??= new ColdDoc(this.host, this, this.size, (p) => this.track(p), this.presenceListener())
    return 'served' in state ? state.served : undefined
  }
  /** Ready for sessions: the encoded state read (served cold), else the Y.Doc loaded. */
  async prepare(): Promise<void> {
    if ((await this.served(true)?.encoded()) === undefined) await this.load()
  }
  get warm(): boolean {
    return this.doc !== undefined
  }
  get destroyed(): boolean {
    return this.state.kind === 'destroyed'
  }

  /** Loads the Y.Doc from the store (once). Resolves after the stored state is applied. */
  load(): Promise<Y.Doc> {
    switch (this.state.kind) {
      case 'destroyed':
        return Promise.reject(new ConvergeError('CONVERGE_REPLICA_DESTROYED', 'document unloaded'))
      case 'warm':
        return Promise.resolve(this.state.doc)
      case 'loading':
        return this.state.loading
      case 'cold': {
        const served = this.state.served
        const loading = this.track(this.loadFromStore(served))
        this.state = { kind: 'loading', loading, served }
        return loading
      }
    }
  }

  private async loadFromStore(served: ColdDoc | undefined): Promise<Y.Doc> {
    // Every update taken cold is in the store before it is read (cold-doc.ts).
    await served?.hydrate()
    const loaded = await loadStoredDoc(this.host.store, this.name, {
      gc: this.host.gc,
      maxNestingDepth: this.host.maxNestingDepth,
      origin: LOAD_ORIGIN,
      reportError: (err, context) => this.host.reportError(err, context),
    })
    const { doc } = loaded
    let { stored, bytes } = loaded
    const seeded = stored ? undefined : await seedNewDoc(this.host, this.name)
    if (seeded !== undefined) {
      Y.applyUpdate(doc, seeded, LOAD_ORIGIN)
      stored = true
      bytes = seeded.length
    }
    this.size.loaded(bytes)
    // A stored state is a change that no relay has confirmed in this session yet.
    if (stored && this.host.policy.tracksSaves && !isEmptyDoc(doc)) this.saves.loadedUnconfirmed()
    if (this.destroyed) {
      doc.destroy()
      throw new ConvergeError('CONVERGE_REPLICA_DESTROYED', 'document unloaded while loading')
    }
    // The presence served cold stays the same object.
    const awareness =
      served?.awareness ?? newPresence(this.host.policy, this.host.presenceSweep, this.presenceListener(), doc)
    doc.on('update', (update: Uint8Array, origin: unknown) => this.onDocUpdate(update, origin))
    this.state = { kind: 'warm', doc, awareness }
    this.host.observer.docLoaded?.(this.name)
    if (served?.loaded !== undefined) this.host.observer.docCold?.(this.name, false)
    this.host.statusChanged(this)
    return doc
  }

  /** The state vector: from the Y.Doc when warm, the encoded state served cold, or the store. */
  async stateVector(): Promise<Uint8Array> {
    if (this.doc !== undefined) return Y.encodeStateVector(this.doc)
    const encoded = await this.served(true)?.encoded()
    if (this.doc !== undefined) return Y.encodeStateVector(this.doc)
    return encoded?.stateVector() ?? this.host.store.stateVector(this.name)
  }

  /** The state vector now, per client, when the document is in memory (loaded, or served cold). */
  stateVectorNow(): ReadonlyMap<number, number> | undefined {
    if (this.doc !== undefined) return Y.decodeStateVector(Y.encodeStateVector(this.doc))
    return this.encoded?.stateMap
  }

  /** What a peer with state vector `sv` is missing: from the Y.Doc when warm, the encoded state served cold, or the store. */
  async diff(sv: Uint8Array, theirDeletes?: DeleteDigests): Promise<Uint8Array> {
    if (this.doc !== undefined) return this.diffLoaded(this.doc, sv, theirDeletes)
    const encoded = await this.served(true)?.encoded()
    if (this.doc === undefined && encoded !== undefined) return encoded.diff(sv, theirDeletes)
    const stored = (await this.host.store.load(this.name)) ?? EMPTY_UPDATE
    if (this.doc !== undefined) return this.diffLoaded(this.doc, sv, theirDeletes)
    return diffOfStored(stored, sv, theirDeletes)
  }

  /**
   * Digests of this document's delete set, to send with sync step 1 (see
   * delete-set-chunks.ts); undefined when they would not be much smaller than the set.
   */
  async deleteDigests(): Promise<Uint8Array | undefined> {
    if (this.doc !== undefined) return deleteDigestsOf(this.fanOut.deleteSets.of(this.doc))
    const encoded = await this.served(true)?.encoded()
    if (this.doc === undefined && encoded !== undefined) return encoded.deleteDigests()
    const stored = await this.host.store.load(this.name)
    return deleteDigestsOf(stored === undefined ? undefined : deleteSetOfUpdate(stored))
  }

  /** What a peer lacks, from the loaded document (in this turn, so nothing can change meanwhile). */
  diffLoaded(doc: Y.Doc, sv: Uint8Array, theirDeletes?: DeleteDigests): Uint8Array {
    return diffOfDoc(doc, sv, theirDeletes, theirDeletes === undefined ? undefined : this.fanOut.deleteSets.of(doc))
  }

  /**
   * Takes an update from `origin` (a session, or DURABLE_ORIGIN for a local write that
   * must be durable first): validates it, appends it, then applies it. Rejects with a
   * coded error when the bytes are malformed, a limit is hit, or the store fails.
   * Appends keep their order in the store: when one fails, none made after it lands
   * (see Store), so no update built on a lost one is ever kept.
   */
  receiveUpdate(update: Uint8Array, origin: unknown, context?: PeerContext): Promise<void> {
    return this.track(this.persistThenApply(update, origin, context))
  }

  private async persistThenApply(update: Uint8Array, origin: unknown, localContext?: PeerContext): Promise<void> {
    const arrived = performance.now()
    const context = this.sessionOf(origin)?.context ?? localContext
    // A relay takes what it surely may without a Y.Doc (cold-doc.ts); the rest hydrates.
    if (this.doc === undefined && (await this.served(true)?.receive(update, origin, context))) return
    const doc = this.doc ?? (await this.load())
    let decoded: Decoded | undefined
    if (this.host.policy.validatesUpdates) {
      // Checked in full; mesh links and upstream relays (passing on a limited peer's pending structs) skip maxPendingBytes.
      const trusted = this.fromTrustedPeer(origin)
      // Updates that waited for the load are checked in one turn: one refused refuses those after (session-refusals.ts).
      decoded = checkUnlessRefused(this.sessionOf(origin), () => {
        const checked = validateUpdate(doc, update, this.name, {
          maxNestingDepth: this.host.maxNestingDepth,
          maxPendingBytes: trusted ? undefined : this.host.maxPendingBytes,
        })
        update = checked.update // as the Y.Doc applies it: a client listed twice keeps its last section
        // Already integrated (a duplicate from the mesh, a repeated delete set): durable as it is.
        if (isRedundantUpdate(doc, checked)) return undefined
        this.size.admit(doc, update.length, this.name, !trusted) // mesh links pass on what another relay's limit admitted
        return checked
      })
      if (decoded === undefined) return
    }
    // A client takes its relay's and its own tabs' word: they passed the relay's checks.
    const started = performance.now()
    try {
      const meta =
        this.host.store.changes === undefined ? undefined : this.appendMeta.metaOf(doc, update, decoded, context)
      await this.host.store.append(this.name, update, meta)
    } catch (err) {
      this.appendMeta.reset()
      this.host.observer.storeError?.(this.name, err)
      throw err instanceof ConvergeError
        ? err
        : new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `persisting an update of ${this.name} failed`, {
            cause: err,
          })
    }
    this.host.observer.persisted?.(this.name, update.length, performance.now() - started)
    if (this.destroyed || this.doc === undefined) {
      this.host.observer.changed?.(this.name, update, context)
      return
    }
    // With the other updates made durable in the same batch: one transaction (durable-apply.ts).
    const sentAt = await this.applies.apply(update, origin, decoded)
    this.host.observer.forwarded?.(this.name, (sentAt ?? performance.now()) - arrived)
    this.host.observer.changed?.(this.name, update, context)
  }

  private applyRun(updates: readonly Uint8Array[], origin: unknown, decoded: ReadonlyArray<Decoded | undefined>) {
    const doc = this.doc
    const run = this.applies.applying
    if (this.destroyed || doc === undefined || run === undefined) return []
    // A relay sends a lone update the Y.Doc takes whole as received, then applies it (forward-as-received.ts).
    if (!this.host.policy.tracksSaves)
      forwardFirst(doc, run, updates, decoded, (u) => this.sendToSessions(u, origin, false))
    const errors = applyInOneTransaction(doc, updates, origin, run)
    if (!errors.some((e) => e !== undefined)) return errors
    // Bytes the checks let through and Yjs cannot apply: the store sets them aside.
    this.host.store.repair?.(this.name, storedPartCheck(this.name, this.host.maxNestingDepth)).catch(noop)
    return errors.map(notApplied)
  }

  /** The session a transaction origin is, if it is one of this document's. */
  private sessionOf(origin: unknown): AttachedSession | undefined {
    return this.sessions.has(origin as AttachedSession) ? (origin as AttachedSession) : undefined
  }

  private fromTrustedPeer(origin: unknown): boolean {
    const session = this.sessionOf(origin)
    return session !== undefined && (session.upstream || session.meshLink)
  }

  private onDocUpdate(update: Uint8Array, origin: unknown): void {
    this.fanOut.changed()
    if (origin === LOAD_ORIGIN) return
    const fromSession =
      this.sessionOf(origin) !== undefined || (origin === this.applies.applying?.origin && origin !== DURABLE_ORIGIN)
    if (!fromSession && origin !== DURABLE_ORIGIN) {
      // A local edit: make it durable locally; it goes to peers right away.
      this.size.appended(update.length)
      this.track(this.localEdits.write(this.doc as Y.Doc, update))
    }
    if (this.host.policy.tracksSaves && !(fromSession && (origin as AttachedSession).upstream)) {
      this.saves.localChange()
    }
    const run = this.applies.applying
    if (!sentFirst(run, origin)) this.sendToSessions(update, origin, run?.echoToOrigin === true)
    this.host.linkDoc(this)
  }

  private sendToSessions(update: Uint8Array, origin: unknown, echoToOrigin: boolean): void {
    for (const s of this.sessions) if ((s !== origin || echoToOrigin) && s.started) s.sendUpdate(update)
  }

  private presenceListener() {
    return (change: AwarenessChange, origin: unknown) => this.onAwarenessUpdate(change, origin)
  }

  private onAwarenessUpdate(change: AwarenessChange, origin: unknown): void {
    const awareness = this.awareness
    // destroy() ends the sessions, then awareness.destroy() emits one last update: linking
    // the doc again then would hang new mesh sessions on a dead document.
    if (awareness === undefined || this.destroyed) return
    const fromSession = this.sessionOf(origin) !== undefined
    // A client passes on only its own presence; relays pass on everyone's.
    if (this.host.policy.hasOwnPresence && fromSession) return
    this.host.observer.awareness?.(this.name, change, this.sessionOf(origin)?.context)
    // Presence crosses the mesh even on a document nobody has edited yet.
    this.host.linkDoc(this)
    this.fanOut.presenceChanged(change, origin, presenceDelay(this.host), this)
  }

  receiveStateless(payload: string, session: AttachedSession): void {
    this.host.statelessReceived?.(this.name, payload, {
      context: session.context,
      relay: session.upstream || session.meshLink,
      reply: (p) => session.sendStateless(p),
    })
  }

  /**
   * Sends an app-defined message on this document's sessions: to the relays of a client,
   * or to the clients of a relay (not across mesh links).
   */
  broadcastStateless(payload: string): void {
    for (const s of this.sessions) if (s.started && !s.meshLink) s.sendStateless(payload)
  }

  /**
   * Presence from `session`, as this replica takes it. A replica with presence of its own
   * (a client) takes its relay's and its tabs' word; one that relays presence ties each id
   * to the session that announced it (awareness-guard.ts).
   */
  admitAwareness(update: Uint8Array, session: AttachedSession, maxStates: number): AdmittedAwareness {
    const { awareness, awarenessGuard: guard } = this
    return admitPresence(awareness, this.host.policy.hasOwnPresence, guard, update, session, maxStates)
  }

  /** Every awareness state known here, encoded, or undefined when there is none. */
  encodeAwarenessStates(): Uint8Array | undefined {
    return encodeAllAwarenessStates(this.awareness)
  }

  /** A session ended (the registry no longer has it): drops the presence of clients no other session speaks for. */
  sessionEnded(session: AttachedSession): void {
    this.awarenessGuard.releaseAll(session)
    if (this.awareness !== undefined) removeOrphanedPresence(this.awareness, this.sessions, session)
    this.holds.let(session)
    this.host.statusChanged(this)
  }

  /**
   * A session started, synced or answered: it holds the document while it keeps a client
   * subscribed, or while a mesh exchange is under way. Unloading mid-exchange would end
   * the session, so the peer would never get our step 1 (to learn what to send) or our
   * step 2; and its late messages, crossing our unsubscribe, would open a new session to
   * unload again.
   */
  sessionMoved(session: AttachedSession): void {
    if (!this.sessions.has(session)) return
    this.holds.holdWhile(session, session.holdsDoc || (session.meshLink && !(session.synced && session.answered)))
    this.host.statusChanged(this)
  }

  /** Resolves when no append or apply started so far is still running. */
  settled(): Promise<void> {
    return this.holds.settled()
  }

  /** Frees the Y.Doc and awareness, ending every session. The caller removes it from the replica. */
  destroy(notifyPeers: boolean): void {
    if (this.destroyed) return
    const { doc, awareness } = this
    // Destroyed, but the sessions ending still see the doc and take their presence along.
    this.state = { kind: 'destroyed', doc, awareness }
    this.holds.stop()
    this.fanOut.dispose()
    for (const s of [...this.sessions]) s.end(notifyPeers)
    awareness?.destroy()
    doc?.destroy()
    this.state = { kind: 'destroyed' }
  }

  /** Number of local changes an upstream relay has not confirmed durable. */
  get unsaved(): number {
    return this.saves.unsaved
  }

  /** Resolves when `update`, already durable here, may be acknowledged as saved (ReplicaOptions.savedWhen). */
  savedGate(update: Uint8Array): Promise<void> | undefined {
    return this.host.savedWhen?.(this.name, update)
  }

  /** Holds the document while `p` runs (a write or a load). */
  private track<T>(p: Promise<T>): Promise<T> {
    return this.holds.track(p)
  }
}

/** The app's hold on a document it has open. */
const APP = Symbol('converge:app')

const isEmptyDoc = (doc: Y.Doc): boolean => doc.store.clients.size === 0 && doc.store.pendingStructs === null

const noop = () => undefined
