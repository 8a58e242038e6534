import type { IncomingMessage } from 'node:http'
import { ConvergeError, type ErrorCode, type PeerContext } from '@converge/core'
import type * as Y from 'yjs'
import type { TokenClaims } from './tokens.js'

/**
 * What the relay knows about a connection, from `onAuthenticate` (or a token's `sub`):
 * `user` is recorded with its changes; any other field is the app's. It reaches every
 * later hook for that connection.
 */
export type HookContext = PeerContext

/** onUpgrade: a WebSocket upgrade request arrived, before any framing or authentication. */
export interface UpgradePayload {
  request: IncomingMessage
  /** The request's cookies, parsed. */
  cookies: Record<string, string>
  /** The client's address: the socket's remote address, or behind a trusted proxy (`trustProxy`) the forwarded one. */
  ip: string
}

/** onAuthenticate: a connection asks to be admitted (y-websocket: at upgrade; converge.v1: at hello). */
export interface AuthenticatePayload extends UpgradePayload {
  framing: 'y-websocket' | 'converge.v1'
  /** The token: `?token=` of a y-websocket URL, or the hello's token ('' when none). */
  token: string
  /** y-websocket framing: the document of the socket. */
  doc?: string
  /** converge.v1: the role the peer claims in its hello. */
  role: 'client' | 'relay'
  /** The token's claims, when the relay has an auth secret and the token verified. */
  claims?: TokenClaims
  /** What earlier onAuthenticate hooks returned, merged. */
  context: HookContext
}

/**
 * What onAuthenticate returns (or nothing): merged into the connection's context. `docs`
 * and `mode` decide access, like a token's claims; `relay` admits a relay peer.
 */
export interface AuthenticateResult {
  user?: string
  /** Document patterns granted (see doc-pattern.ts). Default: every document. */
  docs?: string[]
  /** 'read' or 'write'. Default 'write'. */
  mode?: 'read' | 'write'
  /** May join the mesh as a relay. */
  relay?: boolean
  [key: string]: unknown
}

/** onLoadDocument: a document the store has never held is loading; edit `seed` to give it content. */
export interface LoadDocumentPayload {
  doc: string
  /** A Y.Doc whose clientID is derived from the document name and SEED_VERSION. */
  seed: Y.Doc
}

/** onChange: an update is durable (and applied). */
export interface ChangePayload {
  doc: string
  update: Uint8Array
  /** Who sent it: the connection's context; undefined for a mesh relay, a seed or an anonymous peer. */
  context: HookContext | undefined
}

/** onDocumentSettled: a document has had no change for `settleDelay` ms (or changed for `settleMaxWait`). */
export interface DocumentSettledPayload {
  doc: string
  /** The whole document as one Yjs update. */
  state: Uint8Array
  stateVector: Uint8Array
  /** The document as JSON (see doc-json.ts). */
  json: Record<string, unknown>
  /** Updates since the last settle. */
  changes: number
  /** The distinct users among them. */
  users: string[]
}

/** onAwareness: presence changed on a document. */
export interface AwarenessPayload {
  doc: string
  added: number[]
  updated: number[]
  removed: number[]
  /** Every presence state of the document now, by awareness client id. */
  states: Map<number, unknown>
  context: HookContext | undefined
}

/**
 * onStateless: a client sent an app-defined message about a document (converge.v1 only;
 * the y-websocket protocol has no such message, so stock y-websocket clients never send one
 * and never receive a broadcast).
 */
export interface StatelessPayload {
  doc: string
  payload: string
  context: HookContext | undefined
  /** Answers the sender alone. */
  reply(payload: string): void
  /** Sends to every client that has the document open on this relay (the sender included). */
  broadcast(payload: string): void
}

/** onDisconnect: a connection that had been admitted closed. */
export interface DisconnectPayload {
  peerId: string
  role: string
  code: number
  reason: string
  context: HookContext | undefined
}

export interface UnloadDocumentPayload {
  doc: string
}

export interface ListenPayload {
  url: string
  port: number
}

type Hook<P, R = void> = (payload: P) => R | Promise<R>

/**
 * A relay extension: an object of optional async hooks, run in the order the extensions
 * were given. A hook that may refuse (onUpgrade, onAuthenticate, onLoadDocument) refuses
 * by throwing a HookError (or a ConvergeError); any other exception there refuses as
 * well, is logged, and is counted in `converge_hook_errors_total{hook}`. Exceptions of the
 * other hooks are logged and counted, and change nothing.
 */
export interface Extension {
  /** For logs and metrics. */
  name?: string
  onUpgrade?: Hook<UpgradePayload>
  onAuthenticate?: Hook<AuthenticatePayload, AuthenticateResult | undefined>
  onLoadDocument?: Hook<LoadDocumentPayload>
  onChange?: Hook<ChangePayload>
  onDocumentSettled?: Hook<DocumentSettledPayload>
  onAwareness?: Hook<AwarenessPayload>
  onStateless?: Hook<StatelessPayload>
  onDisconnect?: Hook<DisconnectPayload>
  onUnloadDocument?: Hook<UnloadDocumentPayload>
  onListen?: Hook<ListenPayload>
  onDestroy?: Hook<Record<string, never>>
}

export type HookName = Exclude<keyof Extension, 'name'>

/** Why a hook refuses, and what the refused side is told. */
export const VETO = {
  /** HTTP 401 at upgrade, close 4401 (y-websocket stops reconnecting). */
  unauthorized: 'CONVERGE_AUTH_DENIED',
  /** HTTP 403, close 4403 (y-websocket stops reconnecting). */
  forbidden: 'CONVERGE_FORBIDDEN',
  /** HTTP 400, close 4400. */
  invalid: 'CONVERGE_MALFORMED_MESSAGE',
  /** HTTP 503, close 4500: the client retries. */
  unavailable: 'CONVERGE_INTERNAL',
} as const satisfies Record<string, ErrorCode>

/** The error a hook throws to refuse: `new HookError('forbidden', 'not your document')`. */
export class HookError extends ConvergeError {
  readonly reason: keyof typeof VETO
  constructor(reason: keyof typeof VETO, message: string, options?: { cause?: unknown }) {
    super(VETO[reason], message, options)
    this.name = 'HookError'
    this.reason = reason
  }
}

/** The HTTP status of a refusal at upgrade. */
export const httpStatusOf = (err: unknown): number => {
  if (!(err instanceof ConvergeError)) return 503
  if (err.code === 'CONVERGE_AUTH_DENIED') return 401
  if (err.code === 'CONVERGE_FORBIDDEN') return 403
  if (err.code === 'CONVERGE_MALFORMED_MESSAGE') return 400
  return 503
}
