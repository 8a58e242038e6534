import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { PeerContext } from './access.js'
import { assertDocName } from './doc-name.js'
import type { DocPresence } from './doc-presence.js'
import { type DocStatus, docStatus, StatusChanges } from './doc-status.js'
import { DocumentRouter } from './document-router.js'
import { ConvergeError } from './errors.js'
import type { InventoryEntry, PeerRole } from './messages.js'
import type { Peer } from './peer.js'
import type { AcceptOptions, PeerOptions } from './peer-options.js'
import { PresenceSweep } from './presence-sweep.js'
import { type ResolvedReplicaOptions, resolveReplicaOptions } from './replica-defaults.js'
import { type DocHost, DURABLE_ORIGIN, ReplicaDoc, type StatelessSender } from './replica-doc.js'
import { routerOf } from './replica-internals.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { ReplicaOptions } from './replica-options.js'
import { openPeer, type PeerLinkOptions } from './replica-peer.js'
import { Waiters } from './replica-waiters.js'
import { type RolePolicy, rolePolicy } from './role-policy.js'
import { EMPTY_UPDATE } from './state-digest.js'
import type { Store } from './store.js'
import { loadsCleanly } from './stored-doc.js'
import { docDeleted, isReservedDocName, TOMBSTONES_DOC, Tombstones } from './tombstones.js'
import type { Connector, Transport } from './transport.js'

export type { DocStatus } from './doc-status.js'
export type { ReplicaOptions, SavedGate } from './replica-options.js'

interface ReplicaEvents {
  /** The status of an open document changed. */
  status: (doc: string, status: DocStatus) => void
  /**
   * An app-defined message arrived for a document (converge.v1 only): from a relay's app on
   * a client, from a client on a relay. `from.reply` answers on the same connection.
   */
  stateless: (doc: string, payload: string, from: StatelessSender) => void
  /** Something failed that no caller awaits (a local write, a peer's bad bytes). */
  error: (err: unknown, context: string) => void
}

/**
 * A replica: named Yjs documents persisted to a Store and kept in sync with peers.
 *
 * ```ts
 * const replica = new Replica({ store })
 * replica.connect(websocket('ws://localhost:1234'))
 * const doc = await replica.open('notes')   // resolves once the stored state is loaded
 * doc.getText('body').insert(0, 'hello')
 * await replica.whenSaved('notes')         // durable on the relay
 * ```
 */
export class Replica extends ObservableV2<ReplicaEvents> {
  /** The connections made by connect() and accept() that are not closed. */
  readonly peers: ReadonlySet<Peer> = new Set<Peer>()

  /** The options as given, with every default applied. */
  readonly #options: ResolvedReplicaOptions
  readonly #policy: RolePolicy
  readonly #docs = new Map<string, ReplicaDoc>()
  readonly #router: DocumentRouter
  readonly #docHost: DocHost
  readonly #statusChanges = new StatusChanges()
  /** Deleted documents (relays; see tombstones.ts). */
  readonly #tombstones: Tombstones | undefined
  /**
   * Resolves when the replica is ready to serve: a relay has loaded its tombstones (so no
   * deleted document is served by mistake). A client is ready at once.
   */
  readonly ready: Promise<void>
  #destroyed = false
  readonly #waiters = new Waiters(() => this.#destroyed)

  constructor(options: ReplicaOptions = {}) {
    super()
    this.#options = resolveReplicaOptions(options)
    this.#policy = rolePolicy(this.role)
    this.#router = new DocumentRouter(
      this.#policy,
      {
        get: (name, create) => this.#docFor(name, create),
        open: () => this.#openDocs(),
        // Documents served cold have presence too (cold-doc.ts).
        inMemory: () => this.#docsWithPresence(),
        inventory: () => this.#inventory(),
        isDeleted: (name) => this.#tombstones?.isDeleted(name) ?? false,
      },
      {
        observer: this.observer,
        reportError: (err, context) => this.emit('error', [err, context]),
        linksChanged: () => this.#linksChanged(),
        docDeletedUpstream: (name) => {
          this.#erase(name).catch((err) => this.emit('error', [err, `erasing ${name}`]))
          this.emit('error', [docDeleted(name), name])
        },
      },
    )
    routerOf.set(this, this.#router)
    this.#docHost = {
      ...this.#options,
      policy: this.#policy,
      presenceSweep: new PresenceSweep(),
      sessionsOf: (rdoc) => this.#router.sessionsOf(rdoc),
      linkDoc: (rdoc) => this.#router.forward(rdoc),
      unloaded: (rdoc) => {
        if (this.#docs.get(rdoc.name) === rdoc) this.#drop(rdoc, true)
      },
      statusChanged: (rdoc) => {
        this.#emitStatusIfChanged(rdoc)
        this.#waiters.check()
      },
      reportError: (err, context) => this.emit('error', [err, context]),
      statelessReceived: (doc, payload, from) => this.emit('stateless', [doc, payload, from]),
    }
    this.#tombstones =
      this.role === 'relay'
        ? new Tombstones(
            (name) => this.#erase(name),
            (err, context) => this.emit('error', [err, context]),
          )
        : undefined
    this.ready =
      this.#tombstones === undefined
        ? Promise.resolve()
        : this.#openTombstones(this.#tombstones).catch((err) => this.emit('error', [err, 'loading the tombstones']))
  }

  /** Where documents persist. */
  get store(): Store {
    return this.#options.store
  }
  /** This replica's id in hello messages. */
  get peerId(): string {
    return this.#options.peerId
  }
  get role(): PeerRole {
    return this.#options.role
  }
  get observer(): ReplicaObserver {
    return this.#options.observer
  }
  get gc(): boolean {
    return this.#options.gc
  }
  get unloadDelay(): number {
    return this.#options.unloadDelay
  }
  get maxPendingBytes(): number {
    return this.#options.maxPendingBytes
  }
  get maxNestingDepth(): number {
    return this.#options.maxNestingDepth
  }
  get maxDocBytes(): number {
    return this.#options.maxDocBytes
  }
  get maxMergedUpdateBytes(): number {
    return this.#options.maxMergedUpdateBytes
  }

  // --- documents ----------------------------------------------------------------

  /**
   * Opens a document: resolves with its Y.Doc once the stored state is loaded, and
   * starts syncing it with every connected peer. Each open needs a matching close.
   */
  async open(name: string): Promise<Y.Doc> {
    this.#checkAlive()
    assertDocName(name)
    const rdoc = this.#docFor(name, true) as ReplicaDoc
    rdoc.retain()
    try {
      const doc = await rdoc.load()
      if (rdoc.appRefs > 0) this.#router.docOpened(rdoc)
      this.#docHost.statusChanged(rdoc)
      return doc
    } catch (err) {
      rdoc.release()
      throw err
    }
  }

  /** Closes one open of a document; after the last, it stops syncing and leaves memory. */
  async close(name: string): Promise<void> {
    const rdoc = this.#docs.get(name)
    if (rdoc === undefined || rdoc.appRefs === 0) return
    rdoc.release()
    // A relay keeps serving the document to its peers until nothing holds it (ReplicaDoc.holds).
    if (rdoc.appRefs > 0 || !this.#policy.sharesOnlyOpenDocs) return
    // Tell peers our presence is gone, then stop sharing.
    rdoc.awareness?.appAwareness?.setLocalState(null)
    this.#router.docClosed(name)
    await rdoc.settled()
    if (rdoc.appRefs > 0 || rdoc.destroyed) return
    this.#drop(rdoc, false)
  }

  /**
   * The y-protocols Awareness of an open document, for the app's own presence. Throws
   * CONVERGE_NOT_OPEN when the document is not open, or on a relay, which has none (see
   * presence()); CONVERGE_INVALID_DOC_NAME when the name itself is invalid.
   */
  awareness(name: string): Awareness {
    const awareness = this.presence(name).appAwareness
    if (awareness === undefined) throw new ConvergeError('CONVERGE_NOT_OPEN', `a relay has no awareness of ${name}`)
    return awareness
  }

  /** Every client's presence on a document in memory (doc-presence.ts); throws as awareness(). */
  presence(name: string): DocPresence {
    assertDocName(name)
    const presence = this.#docs.get(name)?.awareness
    if (presence === undefined) throw new ConvergeError('CONVERGE_NOT_OPEN', `${name} is not open`)
    return presence
  }

  /** Names of all documents in the store. */
  list(): Promise<string[]> {
    return this.store.list().then((names) => names.filter((n) => !isReservedDocName(n)))
  }

  /** The loaded Y.Doc of a document, if it is in memory. */
  loadedDoc(name: string): Y.Doc | undefined {
    return this.#docs.get(name)?.doc
  }

  /** Names of the documents in memory. */
  loadedDocs(): string[] {
    return Array.from(this.#docsInMemory(), (d) => d.name)
  }

  /**
   * Applies an update that must be durable before anyone sees it (the relay's admin
   * API, server-side documents): appended to the store first, then applied and sent to
   * peers. `context` says who made it, for the change log and the observer.
   */
  async applyUpdate(name: string, update: Uint8Array, context?: PeerContext): Promise<void> {
    this.#checkAlive()
    assertDocName(name)
    if (this.isDeleted(name)) throw docDeleted(name)
    const rdoc = this.#docFor(name, true) as ReplicaDoc
    await rdoc.receiveUpdate(update, DURABLE_ORIGIN, context)
  }

  /**
   * Sends an app-defined message about an open document: a client to its relays, a relay
   * to the clients that have it open (converge.v1 connections only; see PROTOCOL.md).
   */
  sendStateless(name: string, payload: string): void {
    this.#docs.get(name)?.broadcastStateless(payload)
  }

  /**
   * The document's whole state as one update, loaded or not. Loads the document when its
   * stored bytes would not load cleanly (see stored-doc.ts), so what it returns always does.
   */
  async encodeState(name: string): Promise<Uint8Array> {
    const doc = this.#docs.get(name)?.doc
    if (doc !== undefined) return Y.encodeStateAsUpdate(doc)
    const stored = (await this.store.load(name)) ?? EMPTY_UPDATE
    if (loadsCleanly(stored, this.maxNestingDepth)) return stored
    return Y.encodeStateAsUpdate(await (this.#docFor(name, true) as ReplicaDoc).load())
  }

  /**
   * Removes a document: ends its sessions and deletes it from the store. On a relay the
   * delete wins: a tombstone replicates through the mesh and refuses the name to every
   * client until `recreateDoc`.
   */
  async deleteDoc(name: string): Promise<void> {
    if (this.#tombstones === undefined) return this.#erase(name)
    await this.ready
    await this.#tombstones.delete(name)
  }

  /** Lifts a relay's tombstone of `name`: the document may be written again (it starts empty). */
  async recreateDoc(name: string): Promise<void> {
    assertDocName(name)
    await this.ready
    this.#tombstones?.recreate(name)
  }

  /** Whether `name` was deleted on this relay (or a relay of its mesh) and not recreated. */
  isDeleted(name: string): boolean {
    return this.#tombstones?.isDeleted(name) ?? false
  }

  async #openTombstones(tombstones: Tombstones): Promise<void> {
    const doc = await this.open(TOMBSTONES_DOC)
    tombstones.attach(doc, await this.store.list())
  }

  /** Ends a document's sessions (telling its clients), drops it from memory and deletes it from the store. */
  async #erase(name: string): Promise<void> {
    this.#router.docDeleted(name)
    const rdoc = this.#docs.get(name)
    if (rdoc !== undefined) {
      await rdoc.settled()
      this.#drop(rdoc, true)
    }
    await this.store.delete(name)
    this.observer.docDeleted?.(name)
  }

  // --- peers --------------------------------------------------------------------

  /**
   * Syncs with a remote replica. Given a Connector (a function that opens a fresh
   * transport), the peer reconnects with backoff after every disconnect.
   */
  connect(link: Transport | Connector, options: PeerOptions = {}): Peer {
    this.#checkAlive()
    return this.#link(link, { ...options, initiator: true, upstream: options.upstream ?? true })
  }

  /** Serves a connection that a remote replica opened to this one (the server side). */
  accept(transport: Transport, options: AcceptOptions = {}): Peer {
    this.#checkAlive()
    return this.#link(transport, { ...options, initiator: false, upstream: false })
  }

  #link(transport: Transport | Connector, options: PeerLinkOptions): Peer {
    return openPeer(transport, options, {
      peerId: this.peerId,
      role: this.role,
      observer: this.observer,
      policy: this.#policy,
      router: this.#router,
      peers: this.peers as Set<Peer>,
      flowScope: this,
    })
  }

  // --- status -------------------------------------------------------------------

  /** The status of a document, as an app would show it. */
  status(name: string): DocStatus {
    return docStatus(this.#router.upstreamStatus(name), this.#docs.get(name)?.unsaved ?? 0)
  }

  /**
   * Resolves when the document has synced with a relay over the current connection
   * (at once when the replica has no upstream peer). Rejects after `timeout` ms if given,
   * and when the replica is destroyed first.
   */
  whenSynced(name: string, options: { timeout?: number } = {}): Promise<void> {
    return this.#waiters.wait(
      () => {
        const rdoc = this.#docs.get(name)
        if (rdoc === undefined || !rdoc.warm) return false
        const { hasUpstream, synced } = this.#router.upstreamStatus(name)
        return !hasUpstream || synced
      },
      options.timeout,
      `${name} did not sync`,
    )
  }

  /**
   * Resolves when every local change to the document is durable on a relay.
   * Rejects after `timeout` ms if given, and when the replica is destroyed first.
   */
  whenSaved(name: string, options: { timeout?: number } = {}): Promise<void> {
    const saved = (rdoc: ReplicaDoc | undefined) => rdoc?.warm === true && rdoc.unsaved === 0
    return this.#waiters.wait(() => saved(this.#docs.get(name)), options.timeout, `${name} was not saved`)
  }

  // --- the replica's documents, for the router and the documents themselves -------

  #docFor(name: string, create: boolean): ReplicaDoc | undefined {
    let rdoc = this.#docs.get(name)
    if (rdoc === undefined && create && !this.#destroyed) {
      assertDocName(name)
      rdoc = new ReplicaDoc(this.#docHost, name)
      this.#docs.set(name, rdoc)
    }
    return rdoc
  }

  *#docsInMemory(): Iterable<ReplicaDoc> {
    for (const rdoc of this.#docs.values()) if (rdoc.warm) yield rdoc
  }

  *#docsWithPresence(): Iterable<ReplicaDoc> {
    for (const rdoc of this.#docs.values()) if (rdoc.awareness !== undefined) yield rdoc
  }

  *#openDocs(): Iterable<ReplicaDoc> {
    for (const rdoc of this.#docs.values()) if (rdoc.appRefs > 0 && rdoc.warm) yield rdoc
  }

  #drop(rdoc: ReplicaDoc, notifyPeers: boolean): void {
    const wasWarm = rdoc.warm
    const servedCold = rdoc.encoded !== undefined
    rdoc.destroy(notifyPeers)
    if (this.#docs.get(rdoc.name) === rdoc) this.#docs.delete(rdoc.name)
    this.#statusChanges.forget(rdoc.name)
    this.store.unloaded?.(rdoc.name)
    if (servedCold) this.observer.docCold?.(rdoc.name, false)
    if (wasWarm || servedCold) this.observer.docUnloaded?.(rdoc.name, wasWarm)
  }

  async #inventory(): Promise<InventoryEntry[]> {
    const names = new Set(await this.store.list())
    for (const rdoc of this.#docsInMemory()) names.add(rdoc.name)
    const entries: InventoryEntry[] = []
    for (const doc of [...names].sort()) entries.push({ doc, digest: await this.store.digest(doc) })
    return entries
  }

  #linksChanged(): void {
    if (this.#policy.tracksSaves) for (const rdoc of this.#docs.values()) this.#emitStatusIfChanged(rdoc)
    this.#waiters.check()
  }

  /** Tells the app of a change of a document's status (clients only: relays have no app to tell). */
  #emitStatusIfChanged(rdoc: ReplicaDoc): void {
    if (!this.#policy.tracksSaves || rdoc.appRefs === 0) return
    const status = this.status(rdoc.name)
    if (this.#statusChanges.changed(rdoc.name, status)) this.emit('status', [rdoc.name, status])
  }

  // --- lifecycle ----------------------------------------------------------------

  /**
   * Closes every peer, waits for pending writes, and frees every document; pending
   * whenSynced/whenSaved promises reject with CONVERGE_REPLICA_DESTROYED. The store
   * stays open: whoever made it closes it.
   */
  override async destroy(): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    for (const peer of [...this.peers]) peer.close()
    ;(this.peers as Set<Peer>).clear()
    const docs = [...this.#docs.values()]
    await Promise.all(docs.map((d) => d.settled()))
    for (const rdoc of docs) this.#drop(rdoc, false)
    this.#waiters.rejectAll()
    super.destroy()
  }

  #checkAlive(): void {
    if (this.#destroyed) throw new ConvergeError('CONVERGE_REPLICA_DESTROYED', 'replica was destroyed')
  }
}
