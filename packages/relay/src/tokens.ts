import { type Access, ConvergeError } from '@converge/core'
import { errors, jwtVerify, SignJWT } from 'jose'
import { compileDocPattern, matchesAny } from './doc-pattern.js'

/** What a converge token grants. Tokens are HS256 JWTs carrying these claims. */
export interface TokenClaims {
  /** Document name patterns (see doc-pattern.ts), e.g. ['team-a/*']. */
  docs: string[]
  /** 'read': subscribe and receive; 'write': also change. */
  mode: 'read' | 'write'
  /** The bearer may join the mesh as a relay (hello role 'relay'). */
  relay?: boolean
  /** Who the token is for (free text, for logs). */
  sub?: string
}

const keyOf = (secret: string) => new TextEncoder().encode(secret)

/** Signs a token; `ttl` is a jose duration ('1h', '30m', '7d') or seconds. */
export const signToken = async (secret: string, claims: TokenClaims, ttl: string | number = '1h'): Promise<string> => {
  const jwt = new SignJWT({ docs: claims.docs, mode: claims.mode, ...(claims.relay ? { relay: true } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(typeof ttl === 'number' ? Math.floor(Date.now() / 1000) + ttl : ttl)
  if (claims.sub !== undefined) jwt.setSubject(claims.sub)
  return jwt.sign(keyOf(secret))
}

/** Verifies a token (signature, expiry, claim shapes). Throws CONVERGE_AUTH_DENIED otherwise. */
export const verifyToken = async (token: string, secret: string): Promise<TokenClaims> => {
  if (token === '') throw new ConvergeError('CONVERGE_AUTH_DENIED', 'a token is required')
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtVerify(token, keyOf(secret), { algorithms: ['HS256'] }))
  } catch (err) {
    const why = err instanceof errors.JWTExpired ? 'token expired' : 'invalid token'
    throw new ConvergeError('CONVERGE_AUTH_DENIED', why, { cause: err })
  }
  const { docs, mode, relay, sub } = payload
  if (!Array.isArray(docs) || !docs.every((d) => typeof d === 'string') || (mode !== 'read' && mode !== 'write')) {
    throw new ConvergeError('CONVERGE_AUTH_DENIED', 'token lacks docs or mode')
  }
  return { docs, mode, relay: relay === true, sub: typeof sub === 'string' ? sub : undefined }
}

/** The access a token grants. */
export const accessOf = (claims: TokenClaims): Access => {
  const patterns = claims.docs.map(compileDocPattern)
  return {
    canRead: (doc) => matchesAny(patterns, doc),
    canWrite: (doc) => claims.mode === 'write' && matchesAny(patterns, doc),
  }
}
