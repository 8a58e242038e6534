/**
 * A relay's document while it is served cold: from its encoded state (encoded-doc.ts),
 * read from the store once for every session that joins, with no Y.Doc built. Sync step 1
 * is answered from it (sync-answer.ts cuts large answers in parts); an update a Y.Doc
 * would surely take the same way (cold-update-check.ts) is made durable, committed to the
 * encoded state and passed on to the other sessions, as a Y.Doc's update would be.
 *
 * Anything else hydrates the document (ReplicaDoc.load): from the moment hydration
 * starts, no update is taken cold any more, and the Y.Doc is read from the store only
 * once every update taken cold is durable (`hydrate`), so none is lost. The presence
 * object is made here on first need and stays the same when the document hydrates.
 */
import * as Y from 'yjs'
import type { PeerContext } from './access.js'
import { clientSections } from './client-sections.js'
import { checkColdUpdate, shapeOf } from './cold-update-check.js'
import type { DeleteRanges } from './delete-set-chunks.js'
import type { DocPresence, PresenceListener } from './doc-presence.js'
import type { DocSize } from './doc-size.js'
import { DurableApply } from './durable-apply.js'
import { EncodedDoc } from './encoded-doc.js'
import { ConvergeError } from './errors.js'
import { newPresence } from './new-presence.js'
import type { ReplicaDoc } from './replica-doc.js'
import type { AttachedSession, DocHost } from './replica-doc-host.js'
import { checkUnlessRefused } from './session-refusals.js'
import { EMPTY_UPDATE } from './state-digest.js'
import { servesCold } from './stored-state-check.js'
import { decodeOrRefuse } from './update-validation.js'

export class ColdDoc {
  /** The encoded state, read once (undefined result: the document must be built, e.g. seeded). */
  private reading: Promise<EncodedDoc | undefined> | undefined
  /** The encoded state, once read. */
  loaded: EncodedDoc | undefined
  /** The presence, once something needed it. */
  awareness: DocPresence | undefined
  /** The state vector with every update taken and not committed yet (undefined: none). */
  private ahead: Map<number, number> | undefined
  /** Settles once the last update taken cold is committed (or failed). */
  private last: Promise<unknown> = Promise.resolve()
  /** Updates taken cold so far; infinite once hydration started (every update then takes the Y.Doc's path). */
  private taken = 0
  /** Updates made durable together go on to the sessions as one (durable-apply.ts, as a Y.Doc's runs). */
  private readonly runs: DurableApply

  constructor(
    private readonly host: DocHost,
    private readonly owner: ReplicaDoc,
    private readonly size: DocSize,
    private readonly track: <T>(p: Promise<T>) => Promise<T>,
    private readonly onPresence: PresenceListener,
  ) {
    this.runs = new DurableApply((updates, origin) => this.forward(updates, origin), host.maxMergedUpdateBytes)
  }

  /** The encoded state, read from the store once for every caller. */
  encoded(): Promise<EncodedDoc | undefined> {
    this.reading ??= this.track(this.read()).catch((err) => {
      this.reading = undefined
      throw err
    })
    return this.reading
  }

  private async read(): Promise<EncodedDoc | undefined> {
    // The store keeps the state vector (a LevelStore: with its snapshot): no pass over the bytes for it.
    const { store } = this.host
    let loaded: EncodedDoc
    try {
      const [stored, stateVector] = await Promise.all([store.load(this.owner.name), store.stateVector(this.owner.name)])
      // A new document with a seed is stored by the Y.Doc's load (ReplicaDoc.seed).
      if ((stored === undefined && this.host.seedDocument !== undefined) || this.owner.destroyed) return undefined
      // A damaged state (or one the store cannot read) is the Y.Doc's load to report and repair.
      const scanned = stored === undefined ? undefined : servesCold(stored, this.host.maxNestingDepth)
      if (stored !== undefined && scanned === undefined) return undefined
      loaded = new EncodedDoc(stored ?? EMPTY_UPDATE, stateVector, scanned)
      if (!this.hydrating) this.size.loaded(stored?.length ?? 0)
    } catch {
      return undefined
    }
    this.loaded = loaded
    this.host.observer.docCold?.(this.owner.name, true)
    return this.loaded
  }

  /** The presence, made now if nothing needed it before. */
  presence(): DocPresence {
    this.awareness ??= newPresence(this.host.policy, this.host.presenceSweep, this.onPresence, undefined)
    return this.awareness
  }

  /** Hydration started: every update takes the Y.Doc's path. */
  private get hydrating(): boolean {
    return this.taken === Number.POSITIVE_INFINITY
  }

  /**
   * Hydration starts: no update is taken cold from now on. Resolves once the encoded state
   * was read and every update taken cold is durable (and committed), so the store holds
   * them all when the Y.Doc is read from it.
   */
  hydrate(): Promise<void> {
    this.taken = Number.POSITIVE_INFINITY
    return Promise.all([this.reading, this.last]).then(noop, noop)
  }

  /**
   * Takes `update` from session `origin` without a Y.Doc when that is sure to end as the
   * Y.Doc's path would (see cold-update-check.ts): durable, then committed and passed on.
   * Resolves false when the Y.Doc must decide; rejects as the Y.Doc's path would when the
   * bytes are malformed or the store fails.
   */
  async receive(update: Uint8Array, origin: unknown, context: PeerContext | undefined): Promise<boolean> {
    const arrived = performance.now()
    const encoded = await this.encoded()
    // Past coldWritesBeforeLoad updates the document is being edited: a Y.Doc costs less.
    if (encoded === undefined || this.taken >= this.host.coldWritesBeforeLoad || this.owner.destroyed)
      return this.toYDoc()
    // Local writes (admin API, server documents, the cluster) take the Y.Doc.
    if (!this.owner.sessions.has(origin as AttachedSession)) return this.toYDoc()
    // As the Y.Doc's checks: after a refused update of the session, the rest are refused too.
    const { decoded, verdict } = checkUnlessRefused(origin as AttachedSession, () => {
      const decoded = decodeOrRefuse(update)
      const state = {
        sv: this.ahead ?? encoded.stateMap,
        shape: () => {
          encoded.shape ??= shapeOf(encoded.state)
          return encoded.shape
        },
        deleted: () => encoded.deleted(),
      }
      return { decoded, verdict: checkColdUpdate(decoded, state, clientSections(update)) }
    })
    if (verdict.kind === 'redundant') return true
    if (verdict.kind === 'hydrate' || !this.size.wellUnder(update.length) || encoded.shape == null) return this.toYDoc()
    this.taken++
    this.ahead = verdict.reach
    encoded.shape.root = verdict.root
    this.size.appended(update.length)
    const deletes: DeleteRanges = new Map()
    for (const [client, items] of decoded.ds.clients)
      deletes.set(
        client,
        items.map((d) => [d.clock, d.len]),
      )
    const written = this.persist(encoded, update, { reach: verdict.reach, deletes }, origin, context, arrived)
    this.last = written.catch(noop)
    await written
    return true
  }

  /**
   * The update is the Y.Doc's to decide: hydration starts in this turn, so no update after
   * it (one arriving while the store is read, say) is taken cold before it is decided: if
   * the Y.Doc refuses it, those after it are refused too (session-refusals.ts).
   */
  private toYDoc(): false {
    this.taken = Number.POSITIVE_INFINITY
    return false
  }

  private async persist(
    encoded: EncodedDoc,
    update: Uint8Array,
    { reach, deletes }: { reach: Map<number, number>; deletes: DeleteRanges },
    origin: unknown,
    context: PeerContext | undefined,
    arrived: number,
  ): Promise<void> {
    const { name } = this.owner
    const started = performance.now()
    try {
      // The change log's metadata, as AppendMetaTracker makes it: the state vector once it applies.
      const meta =
        this.host.store.changes === undefined
          ? undefined
          : { who: context?.user, stateVector: Y.encodeStateVector(reach) }
      await this.host.store.append(name, update, meta)
    } catch (err) {
      // Appends after a failed one fail too (see Store): start again from what is committed.
      this.ahead = undefined
      this.host.observer.storeError?.(name, err)
      throw err instanceof ConvergeError
        ? err
        : new ConvergeError('CONVERGE_STORE_WRITE_FAILED', `persisting an update of ${name} failed`, { cause: err })
    }
    this.host.observer.persisted?.(name, update.length, performance.now() - started)
    if (!this.owner.destroyed) {
      encoded.commit(update, reach, deletes)
      if (this.ahead === reach) this.ahead = undefined
      // As a Y.Doc's update event does (ReplicaDoc.onDocUpdate): no kept answer is stale.
      this.owner.fanOut.changed()
      await this.runs.apply(update, origin)
      this.host.observer.forwarded?.(name, performance.now() - arrived)
    }
    this.host.observer.changed?.(name, update, context)
  }

  /** Passes a run of committed updates from `origin` on to the other sessions, merged, and to the mesh. */
  private forward(updates: readonly Uint8Array[], origin: unknown): unknown[] {
    if (this.owner.destroyed) return []
    // Merging costs a pass over every update of the run: only once there is someone to send it to.
    let update: Uint8Array | undefined
    for (const s of this.owner.sessions) {
      if (s === origin || !s.started) continue
      update ??= updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates([...updates])
      s.sendUpdate(update)
    }
    this.host.linkDoc(this.owner)
    return []
  }
}

const noop = () => undefined
