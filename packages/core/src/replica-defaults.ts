/** Defaults of the Replica options that are limits or timeouts, defined once (the relay's option spec reads them). */
export const DEFAULT_REPLICA_OPTIONS = {
  /** A relay drops a document from memory this long after its last client left, in ms. */
  unloadDelay: 30_000,
  /** Bytes of updates with missing dependencies one document may hold. */
  maxPendingBytes: 4 * 1024 * 1024,
  /** Deepest nesting of shared types an update may create (Yjs overflows the stack past about 3,000). */
  maxNestingDepth: 256,
  /** Largest document, in bytes of its stored state. */
  maxDocBytes: 64 * 1024 * 1024,
}
