import type { ErrorCode } from './errors.js'

/**
 * WebSocket close codes used by converge, chosen by what stock clients do with them
 * (the table in packages/core/PROTOCOL.md, "Close codes"). A stock y-websocket 3.x client
 * stops reconnecting on 4400–4499 and retries on every other code, so 44xx is only for
 * what retrying cannot fix; transient conditions use 45xx (the "try again later" mirror of
 * 44xx) or 1013. The same code goes out on both framings.
 */
export const CloseCode = {
  /** Normal closure. */
  normal: 1000,
  /**
   * A y-websocket connection's token expired: reconnect with a fresh one. Outside 4400-4499 on
   * purpose, so a stock y-websocket client retries (with its `params`, where the app puts
   * the new token); converge.v1 peers refresh in-band instead and get 4401 if they do not.
   */
  tokenExpired: 4001,
  /** The relay is shutting down; reconnect later. */
  goingAway: 1001,
  /** A text frame that is not valid UTF-8: the WebSocket layer (RFC 6455) refuses it. */
  invalidPayload: 1007,
  /** A frame exceeded `maxMessageBytes` (or `maxPreAuthBytes` before the hello). */
  messageTooBig: 1009,
  /** Try again later (RFC 6455): the relay is overloaded by this connection (a hard flow-control ceiling). */
  tryAgainLater: 1013,
  /** Bytes that do not decode, an unknown message type, or a message out of order. Permanent. */
  malformed: 4400,
  /** No valid token where one is required. Permanent (until the token changes). */
  unauthorized: 4401,
  /** The token does not grant this document or this mode. Permanent. */
  forbidden: 4403,
  /** The document was deleted (a tombstone): retrying cannot bring it back. Permanent. */
  gone: 4410,
  /** The peer speaks a protocol version this side does not support. Permanent. */
  unsupportedVersion: 4426,
  /** This side failed (its store could not persist an update, or an internal error); reconnecting may succeed. */
  storeFailure: 4500,
  /** No message (or pong) within the heartbeat timeout, or no hello within the handshake timeout. Transient. */
  heartbeatTimeout: 4508,
  /** A document limit was exceeded (messages held while it loads, pending structs). Transient. */
  limitExceeded: 4513,
  /** Sustained messages far beyond the connection's rate limit (pacing could not hold the sender back). Transient. */
  rateLimited: 4529,
} as const

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Close codes after which reconnecting with the same credentials and bytes is pointless:
 * 4400–4499, the rule of y-websocket 3.x (`defaultShouldReconnect`), so a converge replica
 * and a stock client read every code the same way.
 */
export const isFatalCloseCode = (code: number): boolean => code >= 4400 && code < 4500

/** The error a replica reports when a close code stops its reconnects. */
export const errorOfFatalClose = (code: number): ErrorCode => {
  switch (code) {
    case CloseCode.malformed:
      return 'CONVERGE_MALFORMED_MESSAGE'
    case CloseCode.forbidden:
      return 'CONVERGE_FORBIDDEN'
    case CloseCode.unsupportedVersion:
      return 'CONVERGE_UNSUPPORTED_VERSION'
    case CloseCode.gone:
      return 'CONVERGE_DOC_DELETED'
    default:
      return 'CONVERGE_AUTH_DENIED'
  }
}

/** The close code of a connection failed with `code`. */
export const closeCodeOf = (code: ErrorCode): number => {
  switch (code) {
    case 'CONVERGE_AUTH_DENIED':
      return CloseCode.unauthorized
    case 'CONVERGE_FORBIDDEN':
      return CloseCode.forbidden
    case 'CONVERGE_UNSUPPORTED_VERSION':
      return CloseCode.unsupportedVersion
    case 'CONVERGE_LIMIT_EXCEEDED':
      return CloseCode.limitExceeded
    case 'CONVERGE_RATE_LIMITED':
      return CloseCode.rateLimited
    case 'CONVERGE_TIMEOUT':
      return CloseCode.heartbeatTimeout
    case 'CONVERGE_DOC_DELETED':
      return CloseCode.gone
    case 'CONVERGE_STORE_WRITE_FAILED':
    case 'CONVERGE_STORE_CLOSED':
    case 'CONVERGE_INTERNAL':
    case 'CONVERGE_REPLICA_DESTROYED':
      return CloseCode.storeFailure
    default:
      return CloseCode.malformed
  }
}
