import * as Y from 'yjs'
import type { PeerContext } from './access.js'
import { Backlog } from './backlog.js'
import { sharedMessage } from './broadcast.js'
import { type DeleteDigests, decodeDeleteDigests } from './delete-set-chunks.js'
import { ConvergeError, isConvergeError } from './errors.js'
import type { DocMessage, Message } from './messages.js'
import type { AttachedSession, ReplicaDoc } from './replica-doc.js'
import type { ReplicaObserver } from './replica-observer.js'
import { SessionAcks } from './save-tracker.js'
import { answerLoaded } from './sync-answer.js'

/** What a session needs from the link it runs on (the router's view of it). */
export interface SessionLink {
  readonly observer: ReplicaObserver
  send(m: Message): void
  /** Closes the connection because of `err` (a coded error picks the close code). */
  fail(err: unknown): void
  /** Who the remote is, as its authentication decided (Access.context). */
  readonly context?: PeerContext
  /** This side acknowledges what it made durable (a relay on a framing that carries `saved`). */
  readonly sendsAcks: boolean
  /** The framing carries sync-step1-deletes (converge.v1). */
  readonly sendsDeleteDigests: boolean
  /** Updates go out only after this side's step 2 (a client: see DocSession.answered). */
  readonly updatesAfterStep2: boolean
  sessionEnded(session: DocSession): void
  /** The remote refused a document: report it without closing the connection. */
  reportRefusal(doc: string, reason: string): void
  /** A received message is in flight until `done` settles (flow control). */
  inFlight?(doc: string, bytes: number, done: Promise<unknown>): void
  /** Bytes queued on the connection, not yet sent; undefined where unknown. */
  bufferedAmount?(): number | undefined
}

export interface DocSessionOptions {
  /** The remote side is a relay this replica saves to. */
  upstream: boolean
  /** Both sides are relays: the session may run without loading the Y.Doc (it starts cold). */
  meshLink: boolean
  /** This session keeps the document loaded (a client subscribed to a relay). */
  holdsDoc: boolean
  /** Most messages held while the document loads. */
  maxBacklog: number
  /** Largest sync step 2 sent in one message; a larger diff goes in parts. */
  maxSyncChunkBytes: number
  /** Most presence ids a client session may speak for (mesh links and upstream relays: any). */
  maxAwarenessStates: number
  /**
   * The remote started this session: send our step 1 when its step 1 arrives, with delete
   * digests only if it sent digests of its own. A remote with few deletions answers with
   * few anyway, so our digests (a pass over the whole document) would be wasted on it.
   */
  replyFirst: boolean
}

/**
 * One document shared with one peer: the sync exchange (step 1 / step 2 / update),
 * awareness, and the `saved` acknowledgements in both directions.
 */
export class DocSession implements AttachedSession {
  readonly rdoc: ReplicaDoc
  readonly awarenessClients = new Set<number>()

  /** starting (loading, messages held in the backlog) -> started (exchanging) -> ended. */
  private phase: 'starting' | 'started' | 'ended' = 'starting'
  /** How far the sync exchange (step 1 and step 2 each way) has come. */
  private readonly exchange: SyncExchange = {
    step1Sent: false,
    receivedStep1: false,
    answered: false,
    synced: false,
    streaming: 0,
  }
  private readonly peer: SessionLink
  private readonly options: DocSessionOptions
  private readonly backlog: Backlog<DocMessage>
  /** Numbers of update-carrying messages both ways, for `saved`. */
  private readonly acks = new SessionAcks()
  private ackScheduled = false
  private readonly startedAt = performance.now()
  /** Who waits for the remote's step 2 (whenSynced; made on the first). */
  private syncedWaiters: Array<() => void> | undefined

  constructor(peer: SessionLink, rdoc: ReplicaDoc, options: DocSessionOptions) {
    this.peer = peer
    this.rdoc = rdoc
    this.options = options
    this.backlog = new Backlog(options.maxBacklog)
  }

  /** Ready to carry updates: the exchange has started. */
  get started(): boolean {
    return this.phase === 'started'
  }
  get ended(): boolean {
    return this.phase === 'ended'
  }
  /** The remote's sync step 2 was applied. */
  get synced(): boolean {
    return this.exchange.synced
  }
  /** The remote's sync step 1 arrived on this session. */
  get receivedStep1(): boolean {
    return this.exchange.receivedStep1
  }
  /**
   * This side has sent its sync step 2. A client streams updates only after that: its
   * earlier changes travel in the step 2. An update sent before could reach the relay
   * ahead of the changes it builds on, and the relay's ack of it would count those as
   * saved while they still waited in the step 2 (lost if the client then died).
   */
  get answered(): boolean {
    return this.exchange.answered
  }

  get doc(): string {
    return this.rdoc.name
  }
  /** The remote side is a relay this replica saves to. */
  get upstream(): boolean {
    return this.options.upstream
  }
  /** Both sides are relays. */
  get meshLink(): boolean {
    return this.options.meshLink
  }
  /** This session keeps the document loaded. */
  get holdsDoc(): boolean {
    return this.options.holdsDoc
  }

  get context(): PeerContext | undefined {
    return this.peer.context
  }

  sendStateless(payload: string): void {
    this.peer.send({ type: 'stateless', doc: this.doc, payload })
  }

  /** Opens the exchange: our state vector and the presence we know, then the held-back messages. */
  async start(): Promise<void> {
    try {
      if (!this.options.meshLink) await this.rdoc.prepare()
      if (!this.options.replyFirst) {
        const step1 = await this.step1(true)
        if (this.ended) return
        this.peer.send(step1)
        this.exchange.step1Sent = true
      }
      if (this.ended) return
      const awareness = this.rdoc.encodeAwarenessStates()
      if (awareness !== undefined) this.peer.send({ type: 'awareness', doc: this.doc, update: awareness })
      // Sending may have closed the link (a slow reader), ending this session.
      if (this.ended) return
      this.phase = 'started'
      for (const m of this.backlog.take()) this.handle(m)
    } catch (err) {
      this.failUnlessEnded(err)
    } finally {
      this.backlog.release()
    }
  }

  receive(m: DocMessage): void {
    if (this.ended) return
    if (this.started) {
      this.handle(m)
      return
    }
    if (!this.backlog.hold(m)) {
      this.peer.fail(
        new ConvergeError(
          'CONVERGE_LIMIT_EXCEEDED',
          `more than ${this.options.maxBacklog} messages held for ${this.doc}`,
        ),
      )
      return
    }
    this.peer.inFlight?.(this.doc, 'update' in m ? m.update.length : 0, this.backlog.whenHandled())
  }

  private handle(m: DocMessage): void {
    switch (m.type) {
      case 'sync-step1':
        this.exchange.receivedStep1 = true
        this.sendStep1IfDue(false)
        this.answerStep1(m.stateVector)
        return
      case 'sync-step1-deletes':
        this.exchange.receivedStep1 = true
        this.sendStep1IfDue(true)
        this.answerStep1(m.stateVector, m.deleteDigests)
        return
      case 'sync-step2':
      case 'update':
        this.receiveUpdate(m.update, m.type === 'sync-step2')
        return
      case 'awareness':
        this.receiveAwareness(m.update)
        return
      case 'query-awareness': {
        const states = this.rdoc.encodeAwarenessStates()
        if (states !== undefined) this.peer.send({ type: 'awareness', doc: this.doc, update: states })
        return
      }
      case 'saved':
        this.confirmSaved(m.seq, m.stateVector)
        return
      case 'stateless':
        this.rdoc.receiveStateless(m.payload, this)
        return
      case 'auth-denied':
        this.refused(m.reason)
        return
      case 'subscribe':
      case 'unsubscribe':
        // The peer connection handles subscription changes.
        return
    }
  }

  private answerStep1(stateVector: Uint8Array, deleteDigests?: Uint8Array): void {
    let theirDeletes: DeleteDigests | undefined
    try {
      Y.decodeStateVector(stateVector)
      if (deleteDigests !== undefined) theirDeletes = decodeDeleteDigests(deleteDigests)
    } catch (err) {
      this.peer.fail(new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'malformed sync step 1', { cause: err }))
      return
    }
    const local = this.rdoc.saves.localChanges
    // The Y.Doc, or the encoded state of a document a relay serves cold (cold-doc.ts).
    const warm = this.rdoc.doc ?? this.rdoc.encoded
    if (warm !== undefined) {
      // A diff beyond maxSyncChunkBytes goes in parts over several turns, then the step 2
      // (sync-answer.ts); updates wait meanwhile, the step 2 carries them. An answer without
      // delete digests is shared by the peers at one state vector (sync-answer-cache.ts).
      this.exchange.streaming++
      answerLoaded(this.rdoc, warm, stateVector, theirDeletes, this.options.maxSyncChunkBytes, {
        // A part alone covers no local change: only the step 2 after it does (0 confirms nothing).
        part: (update) => this.sendCarrying(sharedMessage('update', this.doc, update), 0),
        // Sent in the turn its diff was made: no change falls between the diff and the count.
        step2: (update) => {
          // Made from the document as it is now, hydrated meanwhile or not (sync-answer.ts).
          this.sendCarrying(sharedMessage('sync-step2', this.doc, update), this.rdoc.saves.localChanges)
          this.markAnswered()
        },
        bufferedAmount: () => this.peer.bufferedAmount?.(),
        ended: () => this.ended,
      })
        .catch((err) => this.failUnlessEnded(err))
        .finally(() => this.exchange.streaming--)
      return
    }
    this.whileOpen(this.rdoc.diff(stateVector, theirDeletes), (update) => {
      this.sendCarrying({ type: 'sync-step2', doc: this.doc, update }, local)
      this.markAnswered()
    })
  }

  private markAnswered(): void {
    if (this.exchange.answered) return
    this.exchange.answered = true
    // The exchange may be complete now, and the doc free to unload (ReplicaDoc.sessionMoved).
    this.rdoc.sessionMoved(this)
  }

  /** A failure that concerns a session already ended (the document was unloaded) is nobody's fault. */
  private failUnlessEnded(err: unknown): void {
    if (!this.ended) this.peer.fail(err)
  }

  /** Runs `then` with what `work` gives unless the session ended meanwhile; a failure fails the peer unless it ended. */
  private whileOpen<T>(work: Promise<T>, then: (value: T) => void): void {
    work.then(
      (value) => {
        if (!this.ended) then(value)
      },
      (err) => this.failUnlessEnded(err),
    )
  }

  private receiveUpdate(update: Uint8Array, isStep2: boolean): void {
    const seq = this.acks.received()
    const applied = this.rdoc.receiveUpdate(update, this)
    this.peer.inFlight?.(this.doc, update.length, applied)
    applied.then(
      () => {
        if (isStep2 && !this.synced && !this.ended) {
          this.exchange.synced = true
          this.peer.observer.synced?.(this.doc, performance.now() - this.startedAt)
          this.releaseSyncedWaiters()
          this.rdoc.sessionMoved(this)
        }
      },
      (err) => {
        // Content lost to a failed write: even if this session ended meanwhile, drop the
        // connection, whose next sync fetches it again; nothing else would while it is up.
        if (isConvergeError(err, 'CONVERGE_STORE_WRITE_FAILED')) this.peer.fail(err)
        else this.failUnlessEnded(err)
      },
    )
    if (!this.peer.sendsAcks) return
    applied
      .then(() => this.rdoc.savedGate(update))
      .then(
        () => this.markDurable(seq),
        () => undefined,
      )
  }

  /** Acknowledges in receive order: `saved` covers a message only once everything before it is durable too. */
  private markDurable(seq: number): void {
    if (this.ended || !this.acks.durable(seq) || this.ackScheduled) return
    this.ackScheduled = true
    // One saved message per session per turn of the event loop, however many updates it covers.
    setTimeout(() => {
      this.ackScheduled = false
      if (this.ended) return
      const seq = this.acks.durableThrough
      this.whileOpen(this.rdoc.stateVector(), (stateVector) =>
        this.peer.send({ type: 'saved', doc: this.doc, seq, stateVector }),
      )
    }, 0)
  }

  private confirmSaved(seq: number, stateVector: Uint8Array): void {
    const covered = this.acks.acked(seq)
    if (covered !== undefined) this.rdoc.saves.confirmed(covered, stateVector)
  }

  private receiveAwareness(update: Uint8Array): void {
    const awareness = this.rdoc.presence()
    if (awareness === undefined) {
      // A cold session (mesh link): load the document so presence can pass through.
      this.whileOpen(this.rdoc.load(), () => this.receiveAwareness(update))
      return
    }
    try {
      // Mesh links and upstream relays carry everyone's presence; a client session its own few.
      const maxStates = this.upstream || this.meshLink ? Number.POSITIVE_INFINITY : this.options.maxAwarenessStates
      const { update: admitted, present, removed } = this.rdoc.admitAwareness(update, this, maxStates)
      if (admitted === undefined) return
      for (const c of present) this.awarenessClients.add(c)
      awareness.apply(admitted, this)
      // A removal Yjs ignored (an older clock) leaves the state: this session still
      // speaks for it, and takes it along when it ends.
      for (const c of removed) {
        if (awareness.has(c)) continue
        this.awarenessClients.delete(c)
        this.rdoc.awarenessGuard.released(c)
      }
    } catch (err) {
      this.peer.fail(
        isConvergeError(err)
          ? err
          : new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'malformed awareness update', { cause: err }),
      )
    }
  }

  /**
   * The remote refused this document (no access, or read-only). The connection stays up
   * for the other documents; the replica reports the refusal.
   */
  refused(reason: string): void {
    // Only a relay refuses; a client's "refusal" means nothing to the relay it talks to.
    if (this.upstream || this.meshLink) this.peer.reportRefusal(this.doc, reason)
  }

  /** Resolves when the remote's sync step 2 is applied, or the session ends. */
  whenSynced(): Promise<void> {
    if (this.synced || this.ended) return Promise.resolve()
    return new Promise((resolve) => {
      this.syncedWaiters ??= []
      this.syncedWaiters.push(resolve)
    })
  }

  private releaseSyncedWaiters(): void {
    const waiters = this.syncedWaiters
    this.syncedWaiters = undefined
    for (const w of waiters ?? []) w()
  }

  /** Sends our state vector again, so the remote answers with whatever we lack. */
  resync(): void {
    if (!this.started || this.ended) return
    this.whileOpen(this.step1(true), (step1) => this.peer.send(step1))
  }

  /** A session the remote started sends its step 1 on the remote's (see `replyFirst`). */
  private sendStep1IfDue(withDeleteDigests: boolean): void {
    if (this.exchange.step1Sent) return
    this.exchange.step1Sent = true
    this.whileOpen(this.step1(withDeleteDigests), (step1) => this.peer.send(step1))
  }

  /** Our sync step 1: the state vector, and on converge.v1 digests of our deletions when they pay off. */
  private async step1(withDeleteDigests: boolean): Promise<Message> {
    const stateVector = await this.rdoc.stateVector()
    const deleteDigests =
      withDeleteDigests && this.peer.sendsDeleteDigests ? await this.rdoc.deleteDigests() : undefined
    return deleteDigests === undefined
      ? { type: 'sync-step1', doc: this.doc, stateVector }
      : { type: 'sync-step1-deletes', doc: this.doc, stateVector, deleteDigests }
  }

  sendUpdate(update: Uint8Array): void {
    if (this.ended) return
    // A client's changes before its step 2 travel in it (see `answered`).
    if ((this.peer.updatesAfterStep2 && !this.answered) || this.exchange.streaming > 0) return
    this.sendCarrying(sharedMessage('update', this.doc, update), this.rdoc.saves.localChanges)
  }

  sendAwareness(update: Uint8Array): void {
    if (this.ended) return
    this.peer.send(sharedMessage('awareness', this.doc, update))
  }

  private sendCarrying(m: Message, localChanges: number): void {
    this.acks.sent(localChanges, this.upstream)
    this.peer.send(m)
  }

  end(notify: boolean): void {
    if (this.ended) return
    this.phase = 'ended'
    if (notify) this.peer.send({ type: 'unsubscribe', doc: this.doc })
    this.backlog.drop()
    this.releaseSyncedWaiters()
    this.peer.sessionEnded(this)
  }
}

/** The sync exchange of one session: step 1 and step 2, each way. */
interface SyncExchange {
  /** Our sync step 1 went out. */
  step1Sent: boolean
  /** The remote's sync step 1 arrived. */
  receivedStep1: boolean
  /** Our sync step 2 went out (see DocSession.answered). */
  answered: boolean
  /** The remote's sync step 2 was applied. */
  synced: boolean
  /** Our sync answers being sent in parts (step2-stream.ts): updates wait, the step 2 after the parts carries them. */
  streaming: number
}
