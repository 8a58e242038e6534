import type { IncomingMessage } from 'node:http'
import { CloseCode, type Peer } from '@converge/core'
import { matches, type Revocation, type RevocationList } from './revocations.js'
import type { VerifiedClaims } from './tokens.js'

/** Longest delay setTimeout takes; longer waits re-arm. */
const MAX_TIMER = 2 ** 31 - 1

interface Watched {
  /** Unknown until the token is verified (a converge.v1 hello comes after the upgrade). */
  claims?: VerifiedClaims
  mux: boolean
  peer?: Peer
  timer?: ReturnType<typeof setTimeout>
}

/**
 * Closes token-bearing connections when their token stops being valid:
 * - at expiry: a y-websocket connection with 4001 (tokenExpired; a stock client reconnects
 *   with its `params`, where the app puts a fresh token), a converge.v1 connection with 4401
 *   unless a refreshed token arrived in a new hello within `refreshGrace` ms after expiry;
 * - at revocation: at once, with 4401 on both framings (the token will never work again).
 */
export class TokenWatch {
  private readonly live = new Map<IncomingMessage, Watched>()
  private readonly refreshGrace: number

  constructor(options: { refreshGrace: number; revocations: RevocationList }) {
    this.refreshGrace = options.refreshGrace
    options.revocations.on('revoked', (r) => this.revoked(r))
  }

  /** Connections being watched. */
  get size(): number {
    return this.live.size
  }

  /**
   * Records the token a connection was admitted with: at upgrade (y-websocket), after it
   * (a converge.v1 hello), and again for a refreshed hello.
   */
  admitted(request: IncomingMessage, claims: VerifiedClaims, mux: boolean): void {
    const watched = this.live.get(request)
    if (watched === undefined) {
      this.live.set(request, { claims, mux })
      // An upgrade that fails after its token was accepted never binds: forget it with its socket.
      request.socket.once('close', () => {
        if (this.live.get(request)?.peer === undefined) this.live.delete(request)
      })
      return
    }
    watched.claims = claims
    this.arm(request, watched)
  }

  /** Binds the peer of an accepted connection; its expiry is watched once its token is known. */
  bind(peer: Peer, request: IncomingMessage, mux: boolean): void {
    let watched = this.live.get(request)
    if (watched === undefined) {
      watched = { mux }
      this.live.set(request, watched)
    }
    const bound = watched
    bound.peer = peer
    peer.on('status', (status) => {
      if (status !== 'closed') return
      clearTimeout(bound.timer)
      this.live.delete(request)
    })
    this.arm(request, bound)
  }

  private arm(request: IncomingMessage, watched: Watched): void {
    clearTimeout(watched.timer)
    if (watched.peer === undefined || watched.claims === undefined) return
    const due = watched.claims.exp * 1000 + (watched.mux ? this.refreshGrace : 0)
    const wait = due - Date.now()
    watched.timer = setTimeout(
      () => (wait > MAX_TIMER ? this.arm(request, watched) : this.expire(watched)),
      Math.max(0, Math.min(wait, MAX_TIMER)),
    )
    watched.timer.unref?.()
  }

  private expire(watched: Watched): void {
    watched.peer?.close(watched.mux ? CloseCode.unauthorized : CloseCode.tokenExpired, 'token expired')
  }

  private revoked(r: Revocation): void {
    for (const watched of this.live.values()) {
      if (watched.claims === undefined || !matches(r, watched.claims) || watched.peer === undefined) continue
      watched.peer.close(CloseCode.unauthorized, 'token revoked')
    }
  }

  /** Stops every timer (the relay is stopping). */
  clear(): void {
    for (const watched of this.live.values()) clearTimeout(watched.timer)
    this.live.clear()
  }
}
