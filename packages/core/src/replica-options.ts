import type { PeerRole } from './messages.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { Store } from './store.js'

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
  /**
   * A relay merges the presence (awareness) changes of a document and passes them on at
   * most once per this many ms, as one update encoded once for every session, so its work
   * grows with the readers rather than readers × writers. A client joining or leaving goes
   * out without waiting for the window (at the end of the event loop's turn, merged with the
   * other joins and leaves of that turn). 0 passes each change on at once. Clients send their own presence at once.
   * Default 50.
   */
  awarenessCoalesceMs?: number
  /**
   * A relay stretches the merge window of a document with many sessions so that its merged
   * presence goes out in at most this many frames a second over all its sessions (a window
   * of sessions ÷ this, at least awarenessCoalesceMs, at most awarenessCoalesceMaxMs): 200
   * stock clients get a 100 ms window. 0 never stretches it. Default 2_000.
   */
  awarenessFramesPerSecond?: number
  /** The longest a stretched merge window gets, in ms. Default 200. */
  awarenessCoalesceMaxMs?: number
  /** Yjs garbage collection of deleted content. Default true. */
  gc?: boolean
  /**
   * Most bytes of updates with missing dependencies a document may hold; beyond it, an
   * update that adds more is refused and its sender closed (4513, transient). Upstream relays and
   * mesh links are exempt: they pass on what a limited peer already sent. Default 4 MiB.
   */
  maxPendingBytes?: number
  /**
   * Deepest nesting of shared types (a map in a map in ...) an update may create; deeper
   * is refused and its sender closed (4513), and a stored document nested deeper is
   * repaired on load (see Store.repair). Yjs deletes and serializes nested types
   * recursively: a 30,000-deep map overflows the stack. Default 256.
   */
  maxNestingDepth?: number
  /**
   * Largest document, in bytes of its stored state: an update that would take it past is
   * refused and its sender closed (4513; converge.v1 peers get an error frame first). Mesh
   * links and upstream relays are exempt. Default 64 MiB.
   */
  maxDocBytes?: number
  /**
   * Received updates made durable by one store write apply in one transaction, from one
   * origin and in order, up to this many bytes of them: the document then emits, and
   * passes on to every other session, one merged update instead of one per update (a burst
   * of small edits costs one message per store write, not per edit). 0 applies each update
   * alone. Default 1 MiB.
   */
  maxMergedUpdateBytes?: number
  /**
   * A relay serves a document from its encoded state, without building a Y.Doc, while
   * that is safe: sync answers come from the stored update, and an update that surely
   * applies whole to one plain list (no gap, no nested type, no map entry, well under
   * maxDocBytes) is stored and passed on as it is. Anything else (and an app opening the
   * document, the admin API, a change log) builds the Y.Doc ("hydrates") first. Clients
   * always keep a Y.Doc. Default false here; the relay server turns it on (--cold-docs).
   */
  coldDocs?: boolean
  /**
   * Updates a document served cold (coldDocs) takes without a Y.Doc; the next one builds
   * the Y.Doc (a document being edited is cheaper to hold as one). Default 16.
   */
  coldWritesBeforeLoad?: number
  /** Hooks for metrics and logs. */
  observer?: ReplicaObserver
  /**
   * Content for a document the store has never held: called once when such a document
   * loads, and the update it returns is stored before anyone sees the document. To stay
   * idempotent across relays, build it the same way everywhere (the same client id and
   * edits): equal seeds then merge into one copy.
   */
  seedDocument?: (name: string) => Promise<Uint8Array | undefined>
  /**
   * Relays: a peer's update is acknowledged as `saved` only once this resolves too (for
   * example once a replicated log took it; see the relay's NATS cluster). Called after the
   * update is durable in the store (or found already there). Default: none, and `saved`
   * means durable in the store.
   */
  savedWhen?: SavedGate
}

/** See ReplicaOptions.savedWhen. Undefined: saved as soon as it is durable in the store. */
export type SavedGate = (doc: string, update: Uint8Array) => Promise<void> | undefined
