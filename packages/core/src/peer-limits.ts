/**
 * A link's limits: every default of DEFAULT_PEER_OPTIONS, overridden by the options given,
 * plus the reconnect backoff when given. A clone of the defaults, overridden key by key, so
 * the limits of every link share one hidden class. (Spreading the whole options object, with its
 * per-connection framing and access, gave each connection a V8 map and descriptor array of
 * its own: about 0.7 KiB of heap per connection on a relay.)
 */
import type { BackoffOptions } from './backoff.js'
import { DEFAULT_PEER_OPTIONS, type PeerOptions } from './peer-options.js'

export type PeerLimits = typeof DEFAULT_PEER_OPTIONS & { backoff?: BackoffOptions }

const LIMIT_KEYS = Object.keys(DEFAULT_PEER_OPTIONS) as Array<keyof typeof DEFAULT_PEER_OPTIONS>

/** The last limits made, and the options they were made of. */
let last: { given: unknown[]; backoff: BackoffOptions | undefined; limits: PeerLimits } | undefined

/**
 * The limits of a link. Links made with the same limit options (every connection a relay
 * accepts) share one object, which no one changes: about 0.4 KiB of heap per connection.
 */
export const peerLimitsOf = (options: PeerOptions): PeerLimits => {
  const given = options as Partial<Record<string, unknown>>
  if (
    last !== undefined &&
    last.backoff === options.backoff &&
    LIMIT_KEYS.every((k, i) => given[k] === last?.given[i])
  ) {
    return last.limits
  }
  const limits = limitsOf(options)
  last = { given: LIMIT_KEYS.map((k) => given[k]), backoff: options.backoff, limits }
  return limits
}

const limitsOf = (options: PeerOptions): PeerLimits => {
  // A plain clone (V8 copies the defaults' hidden class); `{ ...defaults, more }` made a new one per call.
  const limits: PeerLimits = { ...DEFAULT_PEER_OPTIONS }
  const given = options as Partial<Record<string, unknown>>
  const out = limits as Record<string, unknown>
  for (const key of LIMIT_KEYS) {
    const value = given[key]
    if (value !== undefined) out[key] = value
  }
  if (options.backoff !== undefined) limits.backoff = options.backoff
  return limits
}
