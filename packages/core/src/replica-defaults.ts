import { MemoryStore } from './memory-store.js'
import type { PeerRole } from './messages.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { ReplicaOptions } from './replica-options.js'
import type { Store } from './store.js'

/** Defaults of the Replica options that are limits or timeouts, defined once (the relay's option spec reads them). */
export const DEFAULT_REPLICA_OPTIONS = {
  /** A relay drops a document from memory this long after its last client left, in ms. */
  unloadDelay: 30_000,
  /**
   * A relay merges a document's presence changes and sends them at most this often, in ms
   * (joins and leaves go without waiting, those of one event-loop turn as one update). 0
   * sends each change at once.
   */
  awarenessCoalesceMs: 50,
  /**
   * A relay stretches that window so that a document's merged presence goes out in at most
   * this many frames a second over all its sessions (sessions ÷ window): its presence work
   * stays bounded as readers and writers grow. 0: the window never stretches.
   */
  awarenessFramesPerSecond: 2_000,
  /** The longest the stretched window gets, in ms. */
  awarenessCoalesceMaxMs: 200,
  /** Bytes of updates with missing dependencies one document may hold. */
  maxPendingBytes: 4 * 1024 * 1024,
  /** Deepest nesting of shared types an update may create (Yjs overflows the stack past about 3,000). */
  maxNestingDepth: 256,
  /** Largest document, in bytes of its stored state. */
  maxDocBytes: 64 * 1024 * 1024,
  /** Most bytes of received updates applied in one transaction and passed on as one merged update. */
  maxMergedUpdateBytes: 1024 * 1024,
  /**
   * Updates a document served cold takes without a Y.Doc before it builds one: a document
   * being edited is cheaper to hold as a Y.Doc (applying an update costs less than the cold
   * checks and merges), one that is only synced stays cold.
   */
  coldWritesBeforeLoad: 16,
}

/** A replica's options with every default applied: what it runs with, decided once. */
export interface ResolvedReplicaOptions {
  readonly store: Store
  readonly peerId: string
  readonly role: PeerRole
  readonly observer: ReplicaObserver
  readonly gc: boolean
  readonly unloadDelay: number
  readonly awarenessCoalesceMs: number
  readonly awarenessFramesPerSecond: number
  readonly awarenessCoalesceMaxMs: number
  readonly maxPendingBytes: number
  readonly maxNestingDepth: number
  readonly maxDocBytes: number
  readonly maxMergedUpdateBytes: number
  readonly coldDocs: boolean
  readonly coldWritesBeforeLoad: number
  readonly seedDocument: ReplicaOptions['seedDocument']
  readonly savedWhen: ReplicaOptions['savedWhen']
}

export const resolveReplicaOptions = (options: ReplicaOptions): ResolvedReplicaOptions => ({
  store: options.store ?? new MemoryStore(),
  peerId: options.peerId ?? randomId(),
  role: options.role ?? 'client',
  observer: options.observer ?? {},
  gc: options.gc ?? true,
  unloadDelay: options.unloadDelay ?? DEFAULT_REPLICA_OPTIONS.unloadDelay,
  awarenessCoalesceMs: options.awarenessCoalesceMs ?? DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMs,
  awarenessFramesPerSecond: options.awarenessFramesPerSecond ?? DEFAULT_REPLICA_OPTIONS.awarenessFramesPerSecond,
  awarenessCoalesceMaxMs: options.awarenessCoalesceMaxMs ?? DEFAULT_REPLICA_OPTIONS.awarenessCoalesceMaxMs,
  maxPendingBytes: options.maxPendingBytes ?? DEFAULT_REPLICA_OPTIONS.maxPendingBytes,
  maxNestingDepth: options.maxNestingDepth ?? DEFAULT_REPLICA_OPTIONS.maxNestingDepth,
  maxDocBytes: options.maxDocBytes ?? DEFAULT_REPLICA_OPTIONS.maxDocBytes,
  maxMergedUpdateBytes: options.maxMergedUpdateBytes ?? DEFAULT_REPLICA_OPTIONS.maxMergedUpdateBytes,
  // Only a relay serves documents cold: a client's app holds the Y.Doc anyway.
  coldDocs: options.role === 'relay' && options.coldDocs === true,
  coldWritesBeforeLoad: options.coldWritesBeforeLoad ?? DEFAULT_REPLICA_OPTIONS.coldWritesBeforeLoad,
  seedDocument: options.seedDocument,
  savedWhen: options.savedWhen,
})

const randomId = (): string => {
  const bytes = new Uint8Array(8)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
