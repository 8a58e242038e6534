import { ConvergeError } from '@converge/core'
import type { VerifiedClaims } from './tokens.js'

/** Default of `maxUpdateBytesPerToken`: bytes of updates all connections of one token may write. */
export const DEFAULT_MAX_UPDATE_BYTES_PER_TOKEN = 1024 * 1024 * 1024

/** How often the quotas of expired tokens are forgotten, in ms. */
const SWEEP_INTERVAL_MS = 60_000

/**
 * Who a token is for its byte quota: its `jti` (one token), else its `sub` (every token of
 * that subject), else its signature (the token itself).
 */
export const tokenQuotaKey = (claims: Pick<VerifiedClaims, 'jti' | 'sub'>, token: string): string =>
  claims.jti !== undefined
    ? `jti:${claims.jti}`
    : claims.sub !== undefined
      ? `sub:${claims.sub}`
      : `token:${token.slice(token.lastIndexOf('.') + 1)}`

/**
 * Bytes of updates the client connections of one token may write on this relay while the
 * token lives, all its connections together (concurrent or one after another): a token
 * cannot fill the disk by opening more connections, each under maxUpdateBytesPerConnection.
 * A token's count is forgotten once it expired (it cannot connect any more).
 */
export class TokenQuotas {
  readonly limit: number
  private readonly used = new Map<string, { bytes: number; exp: number }>()
  private readonly now: () => number
  private nextSweep = 0

  constructor(limit: number, now: () => number = Date.now) {
    this.limit = limit
    this.now = now
  }

  /** Charges `bytes` to the token `key` (expiring at `exp`, seconds since the epoch); throws CONVERGE_LIMIT_EXCEEDED past the limit. */
  charge(key: string, exp: number, bytes: number): void {
    this.sweep()
    const entry = this.used.get(key) ?? { bytes: 0, exp }
    entry.bytes += bytes
    this.used.set(key, entry)
    if (entry.bytes > this.limit) {
      throw new ConvergeError(
        'CONVERGE_LIMIT_EXCEEDED',
        `more than ${this.limit} bytes of updates with one token (maxUpdateBytesPerToken)`,
      )
    }
  }

  /** Tokens with a count. */
  get size(): number {
    return this.used.size
  }

  private sweep(): void {
    const now = this.now()
    if (now < this.nextSweep) return
    this.nextSweep = now + SWEEP_INTERVAL_MS
    for (const [key, { exp }] of this.used) if (exp * 1000 <= now) this.used.delete(key)
  }
}
