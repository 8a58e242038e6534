import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { assertDocName } from './doc-name.js'
import { ConvergeError } from './errors.js'
import { MemoryStore } from './memory-store.js'
import type { InventoryEntry, PeerRole } from './messages.js'
import { type AcceptOptions, Peer, type PeerHost, type PeerOptions } from './peer.js'
import { DEFAULT_REPLICA_OPTIONS } from './replica-defaults.js'
import { type DocHost, DURABLE_ORIGIN, ReplicaDoc } from './replica-doc.js'
import type { ReplicaObserver } from './replica-observer.js'
import { EMPTY_UPDATE } from './state-digest.js'
import type { Store } from './store.js'
import type { Connector, Transport } from './transport.js'

export interface ReplicaOptions {
  /** Where documents persist. Default: a MemoryStore (nothing survives the process). */
  store?: Store
  /** This replica's id in hello messages. Default: random. */
  peerId?: string
  /**
   * 'client' (default): shares the documents the app opens, and tracks what upstream
   * relays have saved. 'relay': serves any document a peer asks for, acknowledges
   * what it persisted, and streams every document to other relays.
   */
  role?: PeerRole
  /** A relay drops a document from memory after this many ms with no client on it. Default 30_000. */
  unloadDelay?: number
  /** Yjs garbage collection of deleted content. Default true. */
  gc?: boolean
  /**
   * Most bytes of updates with missing dependencies a document may hold; beyond it, an
   * update that adds more is refused and its sender closed (4413). Upstream relays and
   * mesh links are exempt: they pass on what a limited peer already sent. Default 4 MiB.
   */
  maxPendingBytes?: number
  /** Hooks for metrics and logs. */
  observer?: ReplicaObserver
}

/** What an app can show about one document. */
export interface DocStatus {
  /** 'online' when a relay connection is open, 'connecting' while one is being tried. */
  connection: 'offline' | 'connecting' | 'online'
  /** The document has exchanged state with a relay over the current connection. */
  synced: boolean
  /** Every local change is durable on a relay. */
  saved: boolean
  /** Local changes a relay has not yet confirmed durable. */
  unsaved: number
  /**
   * One word for a status line: 'offline' without an open relay connection, else 'saving'
   * while changes wait for a relay's confirmation, else 'saved'.
   */
  summary: 'offline' | 'saving' | 'saved'
}

interface ReplicaEvents {
  /** The status of an open document changed. */
  status: (doc: string, status: DocStatus) => void
  /** Something failed that no caller awaits (a local write, a peer's bad bytes). */
  error: (err: unknown, context: string) => void
}

interface Waiter {
  ready: () => boolean
  resolve: () => void
}

const randomId = (): string => {
  const bytes = new Uint8Array(8)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
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
export class Replica extends ObservableV2<ReplicaEvents> implements DocHost, PeerHost {
  readonly store: Store
  readonly peerId: string
  readonly role: PeerRole
  readonly gc: boolean
  readonly unloadDelay: number
  readonly maxPendingBytes: number
  readonly observer: ReplicaObserver
  readonly peers = new Set<Peer>()
  /** The peers that are open mesh links (see Peer.meshLink), kept by peerStatusChanged. */
  private readonly meshLinks = new Set<Peer>()

  private readonly docs = new Map<string, ReplicaDoc>()
  private readonly lastStatus = new Map<string, string>()
  private waiters = new Set<Waiter>()
  private destroyed = false

  constructor(options: ReplicaOptions = {}) {
    super()
    this.store = options.store ?? new MemoryStore()
    this.peerId = options.peerId ?? randomId()
    this.role = options.role ?? 'client'
    this.gc = options.gc ?? true
    this.unloadDelay = options.unloadDelay ?? DEFAULT_REPLICA_OPTIONS.unloadDelay
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_REPLICA_OPTIONS.maxPendingBytes
    this.observer = options.observer ?? {}
  }

  // --- documents ----------------------------------------------------------------

  /**
   * Opens a document: resolves with its Y.Doc once the stored state is loaded, and
   * starts syncing it with every connected peer. Each open needs a matching close.
   */
  async open(name: string): Promise<Y.Doc> {
    this.checkAlive()
    assertDocName(name)
    const rdoc = this.docFor(name, true) as ReplicaDoc
    rdoc.appRefs++
    rdoc.touch()
    try {
      const doc = await rdoc.load()
      if (rdoc.appRefs > 0) for (const peer of this.peers) peer.openSession(rdoc, true)
      this.statusChanged(rdoc)
      return doc
    } catch (err) {
      rdoc.appRefs--
      rdoc.touch()
      throw err
    }
  }

  /** Closes one open of a document; after the last, it stops syncing and leaves memory. */
  async close(name: string): Promise<void> {
    const rdoc = this.docs.get(name)
    if (rdoc === undefined || rdoc.appRefs === 0) return
    rdoc.appRefs--
    if (rdoc.appRefs > 0) return
    if (this.role === 'relay') {
      rdoc.touch()
      return
    }
    // Tell peers our presence is gone, then stop sharing.
    rdoc.awareness?.setLocalState(null)
    for (const peer of this.peers) peer.closeSession(name)
    await rdoc.settled()
    if (rdoc.appRefs > 0 || rdoc.destroyed) return
    this.drop(rdoc, false)
  }

  /** The awareness (presence) of an open document. */
  awareness(name: string): Awareness {
    const awareness = this.docs.get(name)?.awareness
    if (awareness === undefined) throw new ConvergeError('CONVERGE_INVALID_DOC_NAME', `${name} is not open`)
    return awareness
  }

  /** Names of all documents in the store. */
  list(): Promise<string[]> {
    return this.store.list()
  }

  /** The loaded Y.Doc of a document, if it is in memory. */
  loadedDoc(name: string): Y.Doc | undefined {
    return this.docs.get(name)?.doc
  }

  /** Names of the documents in memory. */
  loadedDocs(): string[] {
    return Array.from(this.docsInMemory(), (d) => d.name)
  }

  /**
   * Applies an update that must be durable before anyone sees it (the relay's admin
   * API): appended to the store first, then applied and sent to peers.
   */
  async applyUpdate(name: string, update: Uint8Array): Promise<void> {
    this.checkAlive()
    assertDocName(name)
    const rdoc = this.docFor(name, true) as ReplicaDoc
    await rdoc.receiveUpdate(update, DURABLE_ORIGIN)
  }

  /** The document's whole state as one update, loaded or not. */
  async encodeState(name: string): Promise<Uint8Array> {
    const doc = this.docs.get(name)?.doc
    if (doc !== undefined) return Y.encodeStateAsUpdate(doc)
    return (await this.store.load(name)) ?? EMPTY_UPDATE
  }

  /** Removes a document: ends its sessions and deletes it from the store. */
  async deleteDoc(name: string): Promise<void> {
    const rdoc = this.docs.get(name)
    if (rdoc !== undefined) {
      await rdoc.settled()
      this.drop(rdoc, true)
    }
    await this.store.delete(name)
  }

  // --- peers --------------------------------------------------------------------

  /**
   * Syncs with a remote replica. Given a Connector (a function that opens a fresh
   * transport), the peer reconnects with backoff after every disconnect.
   */
  connect(link: Transport | Connector, options: PeerOptions = {}): Peer {
    this.checkAlive()
    const peer = new Peer(this, link, { ...options, initiator: true })
    this.track(peer)
    return peer
  }

  /** Serves a connection that a remote replica opened to this one (the server side). */
  accept(transport: Transport, options: AcceptOptions = {}): Peer {
    this.checkAlive()
    const peer = new Peer(this, transport, { ...options, initiator: false, upstream: false })
    this.track(peer)
    return peer
  }

  private track(peer: Peer): void {
    this.peers.add(peer)
    peer.on('status', (status) => {
      if (status === 'closed') this.peers.delete(peer)
    })
    if (peer.status === 'closed') this.peers.delete(peer)
  }

  // --- status -------------------------------------------------------------------

  /** The status of a document, as an app would show it. */
  status(name: string): DocStatus {
    const rdoc = this.docs.get(name)
    let connection: DocStatus['connection'] = 'offline'
    let synced = false
    for (const peer of this.peers) {
      if (!peer.upstream) continue
      if (peer.status === 'open') {
        connection = 'online'
        if (peer.sessions.get(name)?.synced) synced = true
      } else if (peer.status !== 'closed' && connection === 'offline') {
        connection = 'connecting'
      }
    }
    const unsaved = rdoc?.unsaved ?? 0
    const summary = connection !== 'online' ? 'offline' : unsaved > 0 ? 'saving' : 'saved'
    return { connection, synced, saved: unsaved === 0, unsaved, summary }
  }

  /**
   * Resolves when the document has synced with a relay over the current connection
   * (at once when the replica has no upstream peer). Rejects after `timeout` ms if given.
   */
  whenSynced(name: string, options: { timeout?: number } = {}): Promise<void> {
    return this.waitFor(
      () => {
        const rdoc = this.docs.get(name)
        if (rdoc === undefined || !rdoc.warm) return false
        const hasUpstream = [...this.peers].some((p) => p.upstream)
        return !hasUpstream || this.status(name).synced
      },
      options.timeout,
      `${name} did not sync`,
    )
  }

  /**
   * Resolves when every local change to the document is durable on a relay.
   * Rejects after `timeout` ms if given.
   */
  whenSaved(name: string, options: { timeout?: number } = {}): Promise<void> {
    return this.waitFor(
      () => {
        const rdoc = this.docs.get(name)
        return rdoc?.warm === true && rdoc.unsaved === 0
      },
      options.timeout,
      `${name} was not saved`,
    )
  }

  private waitFor(ready: () => boolean, timeout: number | undefined, what: string): Promise<void> {
    if (ready()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const waiter: Waiter = {
        ready,
        resolve: () => {
          if (timer !== undefined) clearTimeout(timer)
          resolve()
        },
      }
      this.waiters.add(waiter)
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new ConvergeError('CONVERGE_TIMEOUT', `${what} within ${timeout} ms`))
        }, timeout)
      }
    })
  }

  private checkWaiters(): void {
    for (const w of this.waiters) {
      if (w.ready()) {
        this.waiters.delete(w)
        w.resolve()
      }
    }
  }

  // --- DocHost / PeerHost -------------------------------------------------------

  docFor(name: string, create: boolean): ReplicaDoc | undefined {
    let rdoc = this.docs.get(name)
    if (rdoc === undefined && create && !this.destroyed) {
      assertDocName(name)
      rdoc = new ReplicaDoc(this, name)
      this.docs.set(name, rdoc)
      rdoc.touch()
    }
    return rdoc
  }

  *docsInMemory(): Iterable<ReplicaDoc> {
    for (const rdoc of this.docs.values()) if (rdoc.warm) yield rdoc
  }

  *openDocs(): Iterable<ReplicaDoc> {
    for (const rdoc of this.docs.values()) if (rdoc.appRefs > 0 && rdoc.warm) yield rdoc
  }

  linkDoc(rdoc: ReplicaDoc): void {
    // Called for every update and presence change: most relays have no mesh link open.
    if (this.meshLinks.size === 0) return
    for (const peer of this.peers) {
      if (peer.meshLink && !peer.sessions.has(rdoc.name)) peer.openSession(rdoc, true)
    }
  }

  unloaded(rdoc: ReplicaDoc): void {
    if (this.docs.get(rdoc.name) === rdoc) this.drop(rdoc, true)
  }

  private drop(rdoc: ReplicaDoc, notifyPeers: boolean): void {
    const wasWarm = rdoc.warm
    rdoc.destroy(notifyPeers)
    if (this.docs.get(rdoc.name) === rdoc) this.docs.delete(rdoc.name)
    this.lastStatus.delete(rdoc.name)
    if (wasWarm) this.observer.docUnloaded?.(rdoc.name)
  }

  async inventory(): Promise<InventoryEntry[]> {
    const names = new Set(await this.store.list())
    for (const rdoc of this.docsInMemory()) names.add(rdoc.name)
    const entries: InventoryEntry[] = []
    for (const doc of [...names].sort()) entries.push({ doc, digest: await this.store.digest(doc) })
    return entries
  }

  statusChanged(rdoc: ReplicaDoc): void {
    this.emitStatusIfChanged(rdoc)
    this.checkWaiters()
  }

  peerStatusChanged(peer: Peer): void {
    if (peer.meshLink) this.meshLinks.add(peer)
    else this.meshLinks.delete(peer)
    if (this.role === 'client') for (const rdoc of this.docs.values()) this.emitStatusIfChanged(rdoc)
    this.checkWaiters()
  }

  /** Tells the app of a change of a document's status (clients only: relays have no app to tell). */
  private emitStatusIfChanged(rdoc: ReplicaDoc): void {
    if (this.role !== 'client' || rdoc.appRefs === 0) return
    const status = this.status(rdoc.name)
    const key = JSON.stringify(status)
    if (this.lastStatus.get(rdoc.name) !== key) {
      this.lastStatus.set(rdoc.name, key)
      this.emit('status', [rdoc.name, status])
    }
  }

  reportError(err: unknown, context: string): void {
    this.emit('error', [err, context])
  }

  // --- lifecycle ----------------------------------------------------------------

  /**
   * Closes every peer, waits for pending writes, and frees every document. The store
   * stays open: whoever made it closes it.
   */
  override async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    for (const peer of [...this.peers]) peer.close()
    this.peers.clear()
    const docs = [...this.docs.values()]
    await Promise.all(docs.map((d) => d.settled()))
    for (const rdoc of docs) this.drop(rdoc, false)
    this.waiters.clear()
    super.destroy()
  }

  private checkAlive(): void {
    if (this.destroyed) throw new ConvergeError('CONVERGE_REPLICA_DESTROYED', 'replica was destroyed')
  }
}
