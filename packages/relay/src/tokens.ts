import { randomUUID } from 'node:crypto'
import { type Access, ConvergeError } from '@converge/core'
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose'
import { compileDocPattern, matchesAny } from './doc-pattern.js'

/** What a converge token grants. Tokens are HS256 JWTs carrying these claims. */
export interface TokenClaims {
  /** Document name patterns (see doc-pattern.ts), e.g. ['team-a/*']. */
  docs: string[]
  /** 'read': subscribe and receive; 'write': also change. */
  mode: 'read' | 'write'
  /** The bearer may join the mesh as a relay (hello role 'relay'). */
  relay?: boolean
  /** Who the token is for (logs, and revocation by subject). */
  sub?: string
  /** false: the bearer may not publish presence (awareness). Default (absent): it may, read-only tokens included. */
  presence?: boolean
}

/** Claims of a verified token: its grant, and what expiry and revocation need. */
export interface VerifiedClaims extends TokenClaims {
  /** Expiry, in seconds since the epoch (required). */
  exp: number
  /** Issued at, in seconds since the epoch, when the token says. */
  iat?: number
  /** The token's id (revocation by id), when it has one. `converge token` always sets one. */
  jti?: string
  /** The key id the token was signed with, if any. */
  kid?: string
}

/** Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: a key as long as the hash). */
export const MIN_SECRET_BYTES = 32

/** Longest token lifetime a relay accepts by default, in seconds (30 days). */
export const DEFAULT_MAX_TOKEN_TTL = 30 * 24 * 3600

/**
 * The secrets a relay verifies tokens with: `secret` for tokens without a `kid` header, and
 * one secret per key id, so keys can rotate (sign new tokens with a new kid; remove the old
 * kid once its tokens have expired).
 */
export interface TokenKeys {
  secret?: string
  keys?: Record<string, string>
}

const encoder = new TextEncoder()

/** Throws unless `secret` is long enough to be an HS256 key. */
export const checkSecret = (secret: string, what = 'secret'): void => {
  if (encoder.encode(secret).length < MIN_SECRET_BYTES) {
    throw new Error(`${what} must be at least ${MIN_SECRET_BYTES} bytes (try: openssl rand -base64 32)`)
  }
}

/** Checks every secret of `keys` (see checkSecret) and that there is at least one. */
export const checkKeys = (keys: TokenKeys): void => {
  if (keys.secret !== undefined) checkSecret(keys.secret, 'the auth secret')
  for (const [kid, secret] of Object.entries(keys.keys ?? {})) checkSecret(secret, `the auth key ${kid}`)
}

/** True when `keys` holds any secret, i.e. the relay requires tokens. */
export const hasKeys = (keys: TokenKeys): boolean =>
  keys.secret !== undefined || Object.keys(keys.keys ?? {}).length > 0

/** Signs a token; `ttl` is a jose duration ('1h', '30m', '7d') or seconds. */
export const signToken = async (
  secret: string,
  claims: TokenClaims,
  ttl: string | number = '1h',
  options: { kid?: string; jti?: string } = {},
): Promise<string> => {
  checkSecret(secret)
  const jwt = new SignJWT({
    docs: claims.docs,
    mode: claims.mode,
    ...(claims.relay ? { relay: true } : {}),
    ...(claims.presence === false ? { presence: false } : {}),
  })
    .setProtectedHeader(options.kid === undefined ? { alg: 'HS256' } : { alg: 'HS256', kid: options.kid })
    .setIssuedAt()
    .setJti(options.jti ?? randomUUID())
    .setExpirationTime(typeof ttl === 'number' ? Math.floor(Date.now() / 1000) + ttl : ttl)
  if (claims.sub !== undefined) jwt.setSubject(claims.sub)
  return jwt.sign(encoder.encode(secret))
}

const denied = (why: string, cause?: unknown) => new ConvergeError('CONVERGE_AUTH_DENIED', why, { cause })

/**
 * Verifies a token: signature (by its `kid`), a required `exp` no further away than
 * `maxTtl` seconds, and the claim shapes. Throws CONVERGE_AUTH_DENIED otherwise.
 */
export const verifyToken = async (
  token: string,
  keys: TokenKeys | string,
  options: { maxTtl?: number } = {},
): Promise<VerifiedClaims> => {
  const { secret, keys: byKid } = typeof keys === 'string' ? { secret: keys, keys: undefined } : keys
  if (token === '') throw denied('a token is required')
  let kid: string | undefined
  try {
    kid = decodeProtectedHeader(token).kid
  } catch (err) {
    throw denied('invalid token', err)
  }
  const key = kid === undefined ? secret : byKid?.[kid]
  if (key === undefined) throw denied(kid === undefined ? 'this relay requires a key id (kid)' : 'unknown key id')
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtVerify(token, encoder.encode(key), { algorithms: ['HS256'], requiredClaims: ['exp'] }))
  } catch (err) {
    throw denied(err instanceof errors.JWTExpired ? 'token expired' : 'invalid token', err)
  }
  const { docs, mode, relay, sub, exp, iat, jti, presence } = payload
  if (!Array.isArray(docs) || !docs.every((d) => typeof d === 'string') || (mode !== 'read' && mode !== 'write')) {
    throw denied('token lacks docs or mode')
  }
  const maxTtl = options.maxTtl ?? DEFAULT_MAX_TOKEN_TTL
  if (typeof exp !== 'number' || exp - Date.now() / 1000 > maxTtl) {
    throw denied(`token lives longer than this relay's maximum of ${maxTtl} s`)
  }
  return {
    docs,
    mode,
    relay: relay === true,
    sub: typeof sub === 'string' ? sub : undefined,
    exp,
    iat: typeof iat === 'number' ? iat : undefined,
    jti: typeof jti === 'string' ? jti : undefined,
    kid,
    ...(presence === false ? { presence: false } : {}),
  }
}

/** The access a token grants. */
export const accessOf = (claims: TokenClaims): Access => {
  const patterns = claims.docs.map(compileDocPattern)
  return {
    canRead: (doc) => matchesAny(patterns, doc),
    canWrite: (doc) => claims.mode === 'write' && matchesAny(patterns, doc),
    canPublishPresence: (doc) => claims.presence !== false && matchesAny(patterns, doc),
  }
}
