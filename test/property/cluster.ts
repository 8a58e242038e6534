import {
  digestOfDoc,
  equalBytes,
  MemoryNetwork,
  MemoryStore,
  type Peer,
  type PeerOptions,
  Replica,
} from '@converge/core'
import type fc from 'fast-check'
import { vi } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../bench/lib/seeded-random.js'
import { applyEdit, type EditOp } from './doc-edits.js'
import { GhostPeer } from './ghost-peer.js'
import { ScheduledStore } from './scheduled-store.js'

/** The documents every client opens. Two, so relays compare inventories of several. */
export const DOC_NAMES = ['a', 'b'] as const

/** What a run builds: relays linked into a mesh, and clients that dial relays. */
export interface ClusterShape {
  relays: number
  clients: number
  /** [dialer, listener] relay indices; may hold cycles and both directions of a pair. */
  meshLinks: Array<[number, number]>
  /** For each client, the relays it dials (one or two). */
  clientLinks: number[][]
  /** A relay drops an idle document after this many ms (fake time). */
  unloadDelay: number
  /** Yjs garbage collection per replica (relays first, then clients; missing: on). */
  gc: boolean[]
  /** Seeds the harness's own choices: which link delivers next, reconnect jitter. */
  seed: number
}

/** A claim a client made: its whole state was confirmed durable on a relay. */
export interface SavedClaim {
  client: string
  doc: string
  state: Uint8Array
  when: string
}

/**
 * Options every connection of the cluster uses. Heartbeats are off and the connect
 * timeout is out of reach: frames move only when the run delivers them, so a slow
 * handshake is the run's choice, not a dead peer. Backoffs are a few ms of fake time.
 */
export const PEER_OPTIONS = {
  heartbeatInterval: 0,
  connectTimeout: 3_600_000,
  backoff: { initialDelay: 1, maxDelay: 16 },
} satisfies PeerOptions

/** Client ids of admin writers; far from the ids the harness gives replicas' docs. */
const ADMIN_CLIENT_ID = 1_000_000

/** Event-loop turns a disposed cluster gets to run out its promise chains. */
const DISPOSE_TURNS = 3

/** Fake ms that quiescence advances per round: past the largest backoff. */
const QUIESCENCE_TICK_MS = 20
/** Rounds quiescence may take before the run fails as one that does not settle. */
const MAX_QUIESCENCE_ROUNDS = 200
/** Frames one quiescence round may deliver before the run fails as one that floods. */
const MAX_FRAMES_PER_ROUND = 20_000

export interface ClusterNode {
  readonly name: string
  readonly role: 'relay' | 'client'
  readonly index: number
  /** The store instance over the node's durable data (replaced at each crash). */
  durable: MemoryStore
  replica: Replica | undefined
  /** Peers this node dialed (its mesh links, or a client's relays). */
  dialers: Peer[]
  /** Docs a client holds open, with the Y.Doc it got (to tell a new doc from the same one). */
  docs: Map<string, Y.Doc | undefined>
  incarnation: number
}

/**
 * The system under test: relays and clients of converge over an in-memory network in
 * manual mode, stores whose writes become durable only when flushed, store answers
 * released by the fast-check scheduler, and fake timers, so that a run is a function of
 * its seed. The methods are the faults and actions that the commands call.
 */
export class Cluster {
  readonly shape: ClusterShape
  readonly net: MemoryNetwork
  readonly nodes: ClusterNode[] = []
  readonly claims: SavedClaim[] = []
  /** Updates relays made durable, for the ghost peer to replay. */
  readonly durableUpdates: Array<{ doc: string; update: Uint8Array }> = []
  readonly ghosts: GhostPeer[] = []
  /** What happened, for the failure report. */
  readonly log: string[] = []
  readonly random: () => number
  private readonly scheduler: fc.Scheduler
  /** Messages sent, by node and type, for the failure report. */
  private readonly sent = new Map<string, number>()
  private nextClientId = 1
  private commandCount = 0
  private ghostCount = 0
  /** The writers behind admin writes, one per document. */
  private readonly adminDocs = new Map<string, Y.Doc>()

  private constructor(shape: ClusterShape, scheduler: fc.Scheduler) {
    this.shape = shape
    this.scheduler = scheduler
    this.random = seededRandom(shape.seed)
    this.net = new MemoryNetwork({ auto: false, random: this.random })
    for (let i = 0; i < shape.relays; i++) this.nodes.push(this.makeNode(`relay${i}`, 'relay', i))
    for (let i = 0; i < shape.clients; i++) this.nodes.push(this.makeNode(`client${i}`, 'client', i))
  }

  /**
   * Builds and starts the cluster: fake timers on, Math.random seeded (backoff jitter),
   * every replica up with its documents open. Call `dispose()` after.
   */
  static async start(shape: ClusterShape, scheduler: fc.Scheduler): Promise<Cluster> {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const cluster = new Cluster(shape, scheduler)
    vi.spyOn(Math, 'random').mockImplementation(cluster.random)
    await scheduler.waitFor(Promise.all(cluster.nodes.map((n) => cluster.boot(n))))
    return cluster
  }

  get relays(): ClusterNode[] {
    return this.nodes.filter((n) => n.role === 'relay')
  }

  get clients(): ClusterNode[] {
    return this.nodes.filter((n) => n.role === 'client')
  }

  private makeNode(name: string, role: 'relay' | 'client', index: number): ClusterNode {
    return {
      name,
      role,
      index,
      durable: new MemoryStore({ autoFlush: false }),
      replica: undefined,
      dialers: [],
      docs: new Map(role === 'client' ? DOC_NAMES.map((d) => [d, undefined]) : []),
      incarnation: 0,
    }
  }

  note(line: string): void {
    this.log.push(`#${this.commandCount} ${line}`)
  }

  commandStarted(description: string): void {
    this.commandCount++
    this.note(description)
  }

  /**
   * Durable before visible, checked after every command: whatever a relay's loaded Y.Doc
   * holds, its store has made durable (flushed), so a crash now would lose nothing a
   * peer may have seen.
   */
  async checkDurableBeforeVisible(): Promise<void> {
    for (const node of this.relays) {
      const replica = node.replica
      if (replica === undefined) continue
      for (const name of replica.loadedDocs()) {
        const loaded = replica.loadedDoc(name)
        if (loaded === undefined) continue
        const durable = new Y.Doc()
        const stored = await node.durable.load(name)
        if (stored !== undefined) Y.applyUpdate(durable, stored)
        const before = digestOfDoc(durable)
        Y.applyUpdate(durable, Y.encodeStateAsUpdate(loaded))
        if (!equalBytes(before, digestOfDoc(durable))) {
          throw new Error(
            `${node.name} shows a change of ${name} that its store has not made durable:\n${this.describe()}`,
          )
        }
      }
    }
  }

  /**
   * Starts a node's replica over its durable data and dials its links, at once; the
   * returned promise resolves when its documents are open, which takes store answers
   * that the scheduler releases: a command must not await it (the scheduler runs one
   * command at a time and releases nothing while it waits for one).
   */
  private boot(node: ClusterNode): Promise<void> {
    node.incarnation++
    const store = new ScheduledStore(
      node.durable,
      this.scheduler,
      `${node.name}#${node.incarnation}`,
      node.role === 'relay' ? (doc, update) => this.durableUpdates.push({ doc, update }) : undefined,
    )
    const replica = new Replica({
      store,
      role: node.role,
      peerId: `${node.name}#${node.incarnation}`,
      unloadDelay: this.shape.unloadDelay,
      gc: this.shape.gc[this.nodes.indexOf(node)] ?? true,
      observer: {
        messageOut: (_peer, type) => {
          const key = `${node.name}:${type}`
          this.sent.set(key, (this.sent.get(key) ?? 0) + 1)
        },
      },
    })
    node.replica = replica
    node.dialers = []
    const connect = (address: string) => {
      const peer = replica.connect(this.net.connector(address, node.name), PEER_OPTIONS)
      peer.on('error', (err) => this.note(`${node.name}->${address} error: ${err.code} ${err.message}`))
      peer.on('status', (status) => {
        if (status === 'connecting' && peer.lastClose !== undefined) {
          this.note(`${node.name}->${address} closed ${peer.lastClose.code} ${peer.lastClose.reason}`)
        }
      })
      node.dialers.push(peer)
    }
    replica.on('error', (err, context) => this.note(`${node.name} error (${context}): ${String(err)}`))
    if (node.role === 'relay') {
      this.net.listen(node.name, (t) => {
        if (node.replica === replica) replica.accept(t, PEER_OPTIONS)
        else t.close(1001, 'relay down')
      })
      for (const [from, to] of this.shape.meshLinks) {
        if (from === node.index) connect(`relay${to}`)
      }
      return Promise.resolve()
    }
    replica.on('status', (doc, status) => {
      const ydoc = replica.loadedDoc(doc)
      if (status.saved && ydoc !== undefined) this.claim(node, doc, ydoc, 'status event')
    })
    for (const relay of this.shape.clientLinks[node.index] ?? []) connect(`relay${relay}`)
    return Promise.all([...node.docs.keys()].map((doc) => this.openDoc(node, doc))).then(() => undefined)
  }

  private claim(node: ClusterNode, doc: string, ydoc: Y.Doc, why: string): void {
    this.claims.push({
      client: node.name,
      doc,
      state: Y.encodeStateAsUpdate(ydoc),
      when: `#${this.commandCount} ${why}`,
    })
  }

  /** Opens a document on a client; resolves when it is loaded (see `boot` about awaiting it). */
  private async openDoc(node: ClusterNode, doc: string): Promise<void> {
    const replica = node.replica
    if (replica === undefined) return
    node.docs.set(doc, undefined)
    let ydoc: Y.Doc
    try {
      ydoc = await replica.open(doc)
    } catch (err) {
      // The replica crashed or the doc was closed while it loaded.
      this.note(`${node.name} open(${doc}) failed: ${String(err)}`)
      return
    }
    if (node.replica !== replica || !node.docs.has(doc)) return
    const known = node.docs.get(doc)
    if (known !== ydoc) {
      // A fresh Y.Doc gets a random client id; a seeded one keeps the run replayable.
      // Set before any local edit, and never reused, so no two docs share an id.
      ydoc.clientID = this.nextClientId++
      node.docs.set(doc, ydoc)
    }
  }

  // --- actions and faults ------------------------------------------------------------

  /** One transaction of edits by a client on a document it has open. */
  edit(client: number, doc: string, ops: EditOp[]): void {
    const node = this.clients[client % this.clients.length] as ClusterNode
    const ydoc = node.docs.get(doc)
    if (node.replica === undefined || ydoc === undefined) return
    ydoc.transact(() => {
      for (const op of ops) applyEdit(ydoc, op)
    })
  }

  /** Delivers up to `frames` frames, each from a link chosen by the seeded random. */
  async deliver(frames: number): Promise<void> {
    for (let i = 0; i < frames; i++) {
      // Nothing in flight yet: let due timers run (links opening and closing) and retry once.
      if (!this.net.step()) {
        await turn()
        if (!this.net.step()) return
      }
      await turn()
    }
  }

  /** Makes a node's queued writes durable. */
  flush(node: number): void {
    this.node(node).durable.flush()
  }

  /** The node's next flush fails, rejecting every write it holds. */
  failNextFlush(node: number): void {
    this.node(node).durable.failNextFlush(new Error('injected flush failure'))
  }

  async tick(ms: number): Promise<void> {
    await vi.advanceTimersByTimeAsync(ms)
  }

  /** Cuts one open link: its in-flight frames are lost; dialers reconnect after a backoff. */
  cutLink(index: number): void {
    const links = this.net.openLinks()
    if (links.length === 0) return
    const link = links[index % links.length] as (typeof links)[number]
    this.note(`cut ${link.from}->${link.to} with ${link.inFlight} frames in flight`)
    link.cut()
  }

  /** Splits the nodes into groups by `groupOf` (node index → group). */
  partition(groupOf: number[]): void {
    const groups = new Map<number, string[]>()
    this.nodes.forEach((n, i) => {
      const g = groupOf[i % groupOf.length] ?? 0
      groups.set(g, [...(groups.get(g) ?? []), n.name])
    })
    this.net.partition(...groups.values())
  }

  heal(): void {
    this.net.heal()
  }

  /**
   * Kills a node: writes not flushed are lost, its connections drop with what is in
   * flight, and nothing it was doing completes. It stays down until `restart`.
   */
  crash(node: number): void {
    const n = this.node(node)
    const replica = n.replica
    if (replica === undefined) return
    // The old store instance is closed, so late writes of the dead replica fail.
    n.durable = n.durable.restart({ autoFlush: false })
    n.replica = undefined
    if (n.role === 'relay') this.net.unlisten(n.name)
    // Not awaited: its pending writes never settle, as after a real crash.
    void replica.destroy()
  }

  /** Starts a crashed node again over what its store made durable. */
  restart(node: number): void {
    const n = this.node(node)
    if (n.replica !== undefined) return
    void this.boot(n)
  }

  /**
   * A write through a relay's admin API (`Replica.applyUpdate`, durable before anyone
   * sees it), from a writer outside the cluster. It sends its whole state each time, as
   * a caller that retries would, so a write lost to a crash leaves no hole. A write that
   * resolved is a saved claim.
   */
  adminWrite(relay: number, doc: string, ops: EditOp[]): void {
    const node = this.relays[relay % this.relays.length] as ClusterNode
    const replica = node.replica
    let writer = this.adminDocs.get(doc)
    if (writer === undefined) {
      writer = new Y.Doc()
      writer.clientID = ADMIN_CLIENT_ID + this.adminDocs.size
      this.adminDocs.set(doc, writer)
    }
    writer.transact(() => {
      for (const op of ops) applyEdit(writer, op)
    })
    if (replica === undefined) return
    const state = Y.encodeStateAsUpdate(writer)
    const label = `admin write to ${node.name}`
    replica.applyUpdate(doc, state).then(
      () => this.claims.push({ client: label, doc, state, when: `#${this.commandCount}` }),
      (err) => this.note(`${label} failed: ${String(err)}`),
    )
  }

  /** Replays an update some relay made durable, to `relay`, over a fresh connection. */
  ghost(relay: number, update: number): void {
    if (this.durableUpdates.length === 0) return
    const { doc, update: bytes } = this.durableUpdates[update % this.durableUpdates.length] as {
      doc: string
      update: Uint8Array
    }
    const target = `relay${relay % this.shape.relays}`
    const name = `ghost${this.ghostCount++}`
    this.note(`${name} replays a ${bytes.length}-byte update of ${doc} to ${target}`)
    this.ghosts.push(new GhostPeer(this.net, target, name, doc, bytes))
  }

  /** A client closes a document it has open, or opens it again. */
  toggleDoc(client: number, doc: string): void {
    const node = this.clients[client % this.clients.length] as ClusterNode
    const replica = node.replica
    if (replica === undefined) return
    if (node.docs.has(doc)) {
      node.docs.delete(doc)
      // Not awaited: close waits for the doc's writes, which wait for a flush.
      void replica.close(doc)
    } else {
      void this.openDoc(node, doc)
    }
  }

  compact(node: number, doc: string): Promise<void> {
    // The MemoryStore itself, not the scheduled wrapper: its answer needs no release.
    return this.node(node).durable.compact(doc)
  }

  private node(index: number): ClusterNode {
    return this.nodes[index % this.nodes.length] as ClusterNode
  }

  // --- quiescence ------------------------------------------------------------------

  /**
   * Ends every fault and runs the system until nothing moves: partitions healed, crashed
   * nodes restarted, closed documents reopened, every write flushed, every frame
   * delivered, every store answer released, every connection open and every client
   * document synced, and all of it unchanged over two rounds.
   */
  async quiesce(): Promise<void> {
    this.note('quiescence')
    this.net.heal()
    for (const g of this.ghosts) g.close()
    await this.scheduler.waitFor(this.settle())
  }

  private async settle(): Promise<void> {
    let last = ''
    let stable = 0
    for (let round = 0; round < MAX_QUIESCENCE_ROUNDS; round++) {
      for (const n of this.nodes) {
        if (n.replica === undefined) await this.boot(n)
        if (n.role === 'client') {
          for (const doc of DOC_NAMES) if (!n.docs.has(doc)) await this.openDoc(n, doc)
        }
      }
      for (const n of this.nodes) n.durable.flush()
      let frames = 0
      while (this.net.step()) {
        await turn()
        if (++frames > MAX_FRAMES_PER_ROUND) {
          throw new Error(`more than ${MAX_FRAMES_PER_ROUND} frames in one quiescence round:\n${this.describe()}`)
        }
      }
      for (const n of this.nodes) n.durable.flush()
      await vi.advanceTimersByTimeAsync(QUIESCENCE_TICK_MS)
      for (let i = 0; this.scheduler.count() > 0 && i < MAX_FRAMES_PER_ROUND; i++) await turn()
      const signature = this.signature()
      if (this.idle() && signature === last) {
        if (++stable >= 2) return
      } else {
        stable = 0
      }
      last = signature
    }
    throw new Error(`no quiescence after ${MAX_QUIESCENCE_ROUNDS} rounds:\n${this.describe()}`)
  }

  private idle(): boolean {
    if (this.net.inFlight > 0 || this.scheduler.count() > 0) return false
    for (const n of this.nodes) {
      if (n.replica === undefined || n.durable.pendingCount > 0) return false
      if (n.dialers.some((p) => p.status !== 'open')) return false
      // Every client session of every document has exchanged state with its relay.
      if (
        n.role === 'client' &&
        n.dialers.some((p) => DOC_NAMES.some((d) => !p.sharedDocs().some((s) => s.doc === d && s.synced)))
      ) {
        return false
      }
    }
    return true
  }

  private signature(): string {
    return JSON.stringify([
      this.net.delivered,
      this.nodes.map((n) => [n.durable.stats.appended, n.durable.stats.batches, n.replica?.loadedDocs().length]),
    ])
  }

  /** The state of every node, for a failure message. */
  describe(): string {
    const lines = [`network: ${this.net.inFlight} frames in flight, ${this.net.openLinks().length} open links`]
    lines.push(`scheduler: ${this.scheduler.count()} store answers pending`)
    for (const n of this.nodes) {
      const peers = n.dialers
        .map((p) => {
          const unsynced = p
            .sharedDocs()
            .filter((s) => !s.synced)
            .map((s) => s.doc)
          const closed = p.status === 'closed' && p.lastClose ? `(${p.lastClose.code} ${p.lastClose.reason})` : ''
          return `${p.remoteId || '?'}:${p.status}${closed}${unsynced.length > 0 ? ` unsynced=${unsynced.join(',')}` : ''}`
        })
        .join(' ')
      const docs =
        n.role === 'client' && n.replica !== undefined
          ? DOC_NAMES.map((d) => `${d}=${JSON.stringify(n.replica?.status(d))}`).join(' ')
          : `loaded=${n.replica?.loadedDocs().join(',')}`
      lines.push(
        `${n.name}#${n.incarnation} ${n.replica === undefined ? 'DOWN' : 'up'} pending writes=${n.durable.pendingCount} dialers=[${peers}] ${docs}`,
      )
    }
    lines.push(`messages sent: ${[...this.sent].map(([k, v]) => `${k}=${v}`).join(' ')}`)
    lines.push('last events:', ...this.log.slice(-40))
    return lines.join('\n')
  }

  /**
   * Drops everything; the fake clock and Math.random go back to normal. Resolves once
   * what the teardown set moving has run out, so nothing of this run interleaves with
   * the next one's promises: a run depends on nothing but its own inputs, and a replay
   * of one run alone behaves as it did among the others.
   */
  async dispose(): Promise<void> {
    for (const n of this.nodes) {
      if (n.replica !== undefined) void n.replica.destroy()
      n.replica = undefined
    }
    vi.clearAllTimers()
    vi.useRealTimers()
    vi.restoreAllMocks()
    for (let i = 0; i < DISPOSE_TURNS; i++) await new Promise((resolve) => setImmediate(resolve))
  }
}

/** One turn of the event loop (fake timers due now included), so async work in flight moves on. */
export const turn = (): Promise<void> => vi.advanceTimersByTimeAsync(0).then(() => undefined)
