/**
 * A document as a relay serves it without a Y.Doc: its state as one encoded update, with
 * the state vector and a version. Updates taken since it was read from the store are kept
 * in a list and merged into the state (Y.mergeUpdates) only when something reads it, so a
 * burst of small updates costs one merge. Holds only what is durable: an update is
 * committed here once its append resolved.
 *
 * A sync step 1 is answered from it (Y.diffUpdate; a peer that has nothing gets the state
 * itself), and large answers are cut in parts from its bytes (`splitter`: EncodedSplitter,
 * encoded-splitter.ts), or from its decoded structs where the bytes cannot be cut as they are.
 */
import * as Y from 'yjs'
import {
  type DeleteDigests,
  type DeleteRanges,
  type DeleteSet,
  deleteSetOfUpdate,
  encodeDeleteSet,
  normalizedRanges,
} from './delete-set-chunks.js'
import { deleteDigestsOf, diffOfStored } from './doc-diff.js'
import { EncodedSplitter } from './encoded-splitter.js'
import { DiffSplitter, type PartCutter } from './split-diff.js'
import { deleteSetOf, type ScannedUpdate, scanUpdate } from './update-scan.js'

type Struct = Y.Item | Y.GC | Y.Skip

/** Where the state's items sit, as the cold checks need it (cold-update-check.ts). */
export interface DocShape {
  /** The root type holding every item, undefined while the state has no item. */
  root: string | undefined
}

export class EncodedDoc {
  /** The state as of the last merge. */
  private merged: Uint8Array
  /** Updates committed since, in commit order. */
  private added: Uint8Array[] = []
  /** The committed state vector. */
  private readonly sv: Map<number, number>
  private svBytes: Uint8Array | undefined
  /** The delete set of a version, and its digests (undefined: not worth sending), made on first need. */
  private deletions:
    | {
        version: number
        ds: DeleteSet | undefined
        ranges?: DeleteRanges
        digests?: Uint8Array
        /** The state was decoded and holds no struct past a gap (nothing beyond the state vector). */
        gapless?: boolean
      }
    | undefined
  /**
   * The committed deletions of a version, sorted and merged: kept up to date by each commit
   * (the update's own deletions added), so checking a deletion costs no pass over the state.
   */
  private done: { version: number; ranges: DeleteRanges } | undefined
  /** Counts the commits: answers made at one version are current while it stands. */
  version = 0
  /**
   * Where the items sit, found on the first update checked (undefined: not yet; null: not
   * one plain list, every update needs the Y.Doc).
   */
  shape: DocShape | null | undefined
  /**
   * The stored state as scanned when it was checked (stored-state-check.ts, servesCold), for
   * a large state only: the first answer cut in parts takes it instead of scanning the state
   * again. Dropped by then, or once the first answer was made whole, or by a commit: it is
   * never kept for long.
   */
  private scanned: ScannedUpdate | undefined

  /** `stateVector`: the stored state's, as the store gives it; `scanned`: `stored` scanned, if it was. */
  constructor(stored: Uint8Array, stateVector: Uint8Array, scanned?: ScannedUpdate) {
    this.merged = stored
    this.sv = Y.decodeStateVector(stateVector)
    this.svBytes = stateVector
    if (stored.length >= KEEP_SCAN_BYTES) this.scanned = scanned
  }

  /** The whole state as one update. */
  get state(): Uint8Array {
    if (this.added.length > 0) {
      // A new document's empty state adds nothing to the merge, and one update alone is its own
      // merge: the first writer's update is the state (copied when it is a view into a larger
      // buffer, a socket's read, which it would otherwise keep alive).
      const only = isEmptyUpdate(this.merged) && this.added.length === 1 ? this.added[0] : undefined
      this.merged =
        only === undefined
          ? Y.mergeUpdates(isEmptyUpdate(this.merged) ? this.added : [this.merged, ...this.added])
          : only.byteLength === only.buffer.byteLength
            ? only
            : only.slice()
      this.added = []
    }
    return this.merged
  }

  /** The committed state vector, per client. */
  get stateMap(): ReadonlyMap<number, number> {
    return this.sv
  }

  stateVector(): Uint8Array {
    this.svBytes ??= Y.encodeStateVector(this.sv)
    return this.svBytes
  }

  /** A durable update joins the state; `reach` is the state vector with it (cold-update-check.ts). */
  commit(update: Uint8Array, reach: ReadonlyMap<number, number>, deletes: DeleteRanges): void {
    this.scanned = undefined
    this.added.push(update)
    for (const [client, clock] of reach) if (clock > (this.sv.get(client) ?? 0)) this.sv.set(client, clock)
    this.svBytes = undefined
    const done = this.done
    this.version++
    if (done === undefined || done.version !== this.version - 1) return
    // The state's deletions after a merge are the union of its parts' (Y.mergeUpdates).
    const ranges = new Map(done.ranges)
    for (const [client, list] of deletes) {
      if (list.length === 0) continue
      ranges.set(client, normalizedRanges([...(ranges.get(client) ?? []), ...list]))
    }
    this.done = { version: this.version, ranges }
  }

  /** What a peer with state vector `sv` lacks; with its delete digests, only the deletions it lacks. */
  diff(sv: Uint8Array, theirDeletes?: DeleteDigests): Uint8Array {
    // An answer cut in parts asks for the structs in the same turn (sync-answer.ts): after it, none will.
    if (this.scanned !== undefined) queueMicrotask(() => (this.scanned = undefined))
    // A peer that has nothing gets the state as it is: no pass over it.
    if (theirDeletes === undefined && sv.length === 1 && sv[0] === 0) return this.state
    // A peer that has every struct (the step 2 after an answer's parts) lacks at most the
    // deletions, when the state is known to hold nothing past a gap (structs beyond the state vector).
    const known = this.deletions
    if (
      theirDeletes === undefined &&
      known?.version === this.version &&
      known.gapless === true &&
      sameClocks(Y.decodeStateVector(sv), this.sv)
    ) {
      const section = this.deleteSet().ds?.bytes ?? EMPTY_DELETE_SET
      const update = new Uint8Array(section.length + 1)
      update.set(section, 1)
      return update
    }
    return diffOfStored(this.state, sv, theirDeletes)
  }

  /** The delete set of this version. */
  private deleteSet(): NonNullable<EncodedDoc['deletions']> {
    if (this.deletions?.version !== this.version) {
      this.deletions = { version: this.version, ds: deleteSetOfUpdate(this.state) }
    }
    return this.deletions
  }

  /** Digests of the delete set, for sync step 1 (see doc-diff.ts), once per version. */
  deleteDigests(): Uint8Array | undefined {
    const d = this.deleteSet()
    if (!('digests' in d)) d.digests = deleteDigestsOf(d.ds)
    return d.digests
  }

  /** The deletions, by client, sorted by clock and merged: what a redundant update is checked against. */
  deleted(): DeleteRanges {
    if (this.done?.version === this.version) return this.done.ranges
    const d = this.deleteSet()
    d.ranges ??= sortedRanges(d.ds?.ranges)
    this.done = { version: this.version, ranges: d.ranges }
    return d.ranges
  }

  /**
   * Cuts what a peer with state vector `sv` lacks into parts of about `maxBytes`: from the
   * state's bytes, scanned (no struct decoded), or from its decoded structs when they cannot
   * be cut as they are (see EncodedSplitter.of).
   */
  splitter(sv: Uint8Array, maxBytes: number): PartCutter {
    const scan = this.scanned ?? scanUpdate(this.state)
    this.scanned = undefined
    // The delete set comes with the scan: no second pass over the state for it.
    this.learnDeletions(() => deleteSetOf(scan), !scan.hasSkips)
    return EncodedSplitter.of(scan, sv, maxBytes) ?? new DiffSplitter(this.structs(), sv, maxBytes)
  }

  /** Keeps the delete set of this version, read by a pass over the state made for something else. */
  private learnDeletions(read: () => DeleteSet, gapless: boolean): void {
    if (this.deletions?.version === this.version) return
    this.deletions = { version: this.version, ds: read(), gapless }
  }

  /** The state's structs by client, in clock order: what DiffSplitter cuts parts from. */
  structs(): { clients: Map<number, Struct[]> } {
    const clients = new Map<number, Struct[]>()
    const decoded = Y.decodeUpdate(this.state)
    const ranges = (): DeleteSet => {
      const out: DeleteRanges = new Map()
      for (const [client, items] of decoded.ds.clients)
        out.set(
          client,
          items.map((d) => [d.clock, d.len]),
        )
      return { ranges: out, bytes: encodeDeleteSet(out) }
    }
    this.learnDeletions(ranges, !decoded.structs.some((s) => s instanceof Y.Skip))
    for (const s of decoded.structs) {
      let list = clients.get(s.id.client)
      if (list === undefined) {
        list = []
        clients.set(s.id.client, list)
      }
      list.push(s)
    }
    return { clients }
  }
}

/**
 * `ranges` per client sorted by clock, overlapping and adjacent ones merged. A list that
 * already is (as Yjs writes them) is kept, not copied: both stay in memory while the
 * document is served cold, and neither is changed (a commit makes new lists).
 */
const sortedRanges = (ranges: DeleteRanges | undefined): DeleteRanges =>
  new Map([...(ranges ?? [])].map(([client, list]) => [client, isNormalized(list) ? list : normalizedRanges(list)]))

/** Sorted by clock, none overlapping or adjacent to the one before: what normalizedRanges returns. */
const isNormalized = (list: ReadonlyArray<readonly [number, number]>): boolean => {
  for (let i = 1; i < list.length; i++) {
    const before = list[i - 1] as readonly [number, number]
    if ((list[i] as readonly [number, number])[0] <= before[0] + before[1]) return false
  }
  return true
}

/** A stored state this large keeps its check's scan for the first answer cut in parts (smaller ones are scanned again, cheaply). */
const KEEP_SCAN_BYTES = 64 * 1024

/** The delete set section of an update that deletes nothing. */
const EMPTY_DELETE_SET = new Uint8Array([0])

/** Whether two state vectors name the same clocks (a client at 0 counts as absent). */
const sameClocks = (a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean => {
  for (const [client, clock] of a) if (clock !== (b.get(client) ?? 0)) return false
  for (const [client, clock] of b) if (clock !== (a.get(client) ?? 0)) return false
  return true
}

/** The empty update (no structs, no deletions), as a store gives a document it does not hold. */
const isEmptyUpdate = (u: Uint8Array): boolean => u.length === 2 && u[0] === 0 && u[1] === 0
