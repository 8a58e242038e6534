import type { IncomingMessage } from 'node:http'
import { type Access, ConvergeError, type HelloMessage } from '@converge/core'
import { compileDocPattern, matchesAny } from './doc-pattern.js'
import type { AuthenticateResult, HookContext, UpgradePayload } from './extensions.js'
import type { HookRunner } from './hooks-runner.js'
import { type TokenQuotas, tokenQuotaKey } from './token-quota.js'
import { type VerifiedClaims, verifyToken } from './tokens.js'
import { clientAddressOf } from './trusted-proxies.js'

/** How the relay checks tokens (its edge: keys, maximum TTL, revocation, the expiry watch). */
export interface TokenGate {
  /** The relay requires tokens (it has auth keys). */
  readonly required: boolean
  /** Without tokens, peers may claim the relay role. */
  readonly allowUnauthenticatedRelays: boolean
  verify(token: string, request: IncomingMessage, mux: boolean): Promise<VerifiedClaims>
}

/** The request's cookies, parsed (`a=1; b=2`); a malformed pair is skipped. */
export const parseCookies = (header: string | undefined): Record<string, string> => {
  const cookies: Record<string, string> = {}
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    try {
      cookies[name] = decodeURIComponent(part.slice(eq + 1).trim())
    } catch {
      // not percent-encoded as it should be: skip it
    }
  }
  return cookies
}

export const upgradePayloadOf = (request: IncomingMessage): UpgradePayload => ({
  request,
  cookies: parseCookies(request.headers.cookie),
  ip: clientAddressOf(request),
})

/** An Access that carries the connection's context to the replica and to later hooks. */
const accessWith = (
  docs: string[],
  mode: 'read' | 'write',
  context: HookContext,
  presence = true,
  chargeUpdate?: (bytes: number) => void,
): Access => {
  const patterns = docs.map(compileDocPattern)
  return {
    canRead: (doc) => matchesAny(patterns, doc),
    canWrite: (doc) => mode === 'write' && matchesAny(patterns, doc),
    // Presence is not content: read-only tokens publish it too, unless the token says `presence: false`.
    canPublishPresence: (doc) => presence && matchesAny(patterns, doc),
    context,
    ...(chargeUpdate === undefined ? {} : { chargeUpdate }),
  }
}

/**
 * Decides a connection's access from its token and the extensions' onAuthenticate, on
 * both framings. A valid token gives its claims; onAuthenticate runs after it (seeing the
 * claims, or none) and may add or override `user`, `docs`, `mode` and `relay`. Without an
 * auth secret and without a hook that returns anything, everyone gets full access; with
 * an auth secret, a connection needs a valid token or a hook that admits it.
 */
export class RelayAuth {
  private readonly secret: string | undefined
  private readonly hooks: HookRunner
  /** Bytes of updates per token, all its connections together (maxUpdateBytesPerToken). */
  private readonly quotas: TokenQuotas | undefined
  /** The relay's token checks (keys, maximum TTL, revocation, expiry), when set. */
  gate: TokenGate | undefined

  constructor(secret: string | undefined, hooks: HookRunner, quotas?: TokenQuotas) {
    this.secret = secret
    this.hooks = hooks
    this.quotas = quotas
  }

  /** Whether connections need deciding at all (otherwise they get full access and no context). */
  get active(): boolean {
    return this.tokensRequired || this.hooks.has('onAuthenticate')
  }

  /** Whether an extension may admit connections on its own (by cookie, address…): ambient authority. */
  get hooksDecide(): boolean {
    return this.hooks.has('onAuthenticate')
  }

  private get tokensRequired(): boolean {
    return this.gate?.required ?? this.secret !== undefined
  }

  /** y-websocket framing: decided at upgrade, from `?token=`. */
  request = (request: IncomingMessage, doc: string): Promise<Access> => {
    const token = new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? ''
    return this.decide(request, token, 'y-websocket', 'client', doc)
  }

  /** converge.v1: decided at hello. */
  hello = (hello: HelloMessage, request: IncomingMessage): Promise<Access> =>
    this.decide(request, hello.token, 'converge.v1', hello.role)

  private async decide(
    request: IncomingMessage,
    token: string,
    framing: 'y-websocket' | 'converge.v1',
    role: 'client' | 'relay',
    doc?: string,
  ): Promise<Access> {
    let claims: VerifiedClaims | undefined
    let tokenError: unknown
    const required = this.tokensRequired
    if (required) {
      try {
        claims =
          this.gate !== undefined
            ? await this.gate.verify(token, request, framing === 'converge.v1')
            : await verifyToken(token, this.secret as string)
      } catch (err) {
        tokenError = err
      }
    }
    let result: AuthenticateResult = {}
    if (this.hooks.has('onAuthenticate')) {
      result = await this.hooks.authenticate({ ...upgradePayloadOf(request), framing, token, doc, role, claims })
    }
    const admitted = claims !== undefined || !required || Object.keys(result).length > 0
    if (!admitted) throw tokenError ?? new ConvergeError('CONVERGE_AUTH_DENIED', 'a token is required')
    // Without tokens, the relay role is admitted only on a trusted network (--allow-unauthenticated-relays).
    const openRelays = !required && (this.gate?.allowUnauthenticatedRelays ?? true)
    if (role === 'relay' && !openRelays && !(result.relay ?? claims?.relay)) {
      throw new ConvergeError(
        'CONVERGE_FORBIDDEN',
        required
          ? 'this connection is not admitted as a relay'
          : 'this relay admits relays only with a token (or --allow-unauthenticated-relays)',
      )
    }
    const user = result.user ?? claims?.sub
    const context: HookContext = { ...result, ...(user === undefined ? {} : { user }) }
    const { quotas } = this
    const verified = claims
    const chargeUpdate =
      quotas === undefined || verified === undefined
        ? undefined
        : (bytes: number) => quotas.charge(tokenQuotaKey(verified, token), verified.exp, bytes)
    return accessWith(
      result.docs ?? claims?.docs ?? ['**'],
      result.mode ?? claims?.mode ?? 'write',
      context,
      claims?.presence !== false,
      chargeUpdate,
    )
  }
}
