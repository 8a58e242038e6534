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

export const peerLimitsOf = (options: PeerOptions): PeerLimits => {
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
