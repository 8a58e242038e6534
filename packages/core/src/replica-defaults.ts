/** Defaults of the Replica options that are limits or timeouts, defined once (the relay's option spec reads them). */
export const DEFAULT_REPLICA_OPTIONS = {
  /** A relay drops a document from memory this long after its last client left, in ms. */
  unloadDelay: 30_000,
  /** Bytes of updates with missing dependencies one document may hold. */
  maxPendingBytes: 4 * 1024 * 1024,
}
