import type { ErrorCode } from './errors.js'

/**
 * WebSocket close codes used by converge. The 44xx codes read like HTTP statuses.
 * A peer closed with one of these should not retry blindly: 4400, 4401, 4403 and 4426
 * will fail again with the same input; 4408, 4500 and 1001 are worth a reconnect.
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
  /** A frame exceeded `maxMessageBytes`. */
  messageTooBig: 1009,
  /** Bytes that do not decode, an unknown message type, or a message out of order. */
  malformed: 4400,
  /** No valid token where one is required. */
  unauthorized: 4401,
  /** The token does not grant this document or this mode. */
  forbidden: 4403,
  /** No message (or pong) within the heartbeat timeout. */
  heartbeatTimeout: 4408,
  /** The document was deleted (a tombstone): retrying cannot bring it back. */
  gone: 4410,
  /** A document limit was exceeded (too many documents, too many pending structs). */
  limitExceeded: 4413,
  /** The peer speaks a protocol version this side does not support. */
  unsupportedVersion: 4426,
  /** More messages than the connection's rate limit allows. */
  rateLimited: 4429,
  /** This side failed (its store could not persist an update, or an internal error); reconnecting may succeed. */
  storeFailure: 4500,
} as const

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

/** Close codes after which reconnecting with the same credentials and bytes is pointless. */
export const isFatalCloseCode = (code: number): boolean =>
  code === CloseCode.unauthorized ||
  code === CloseCode.forbidden ||
  code === CloseCode.unsupportedVersion ||
  code === CloseCode.gone

const byError: Partial<Record<ErrorCode, number>> = {
  CONVERGE_MALFORMED_MESSAGE: CloseCode.malformed,
  CONVERGE_AUTH_DENIED: CloseCode.unauthorized,
  CONVERGE_FORBIDDEN: CloseCode.forbidden,
  CONVERGE_LIMIT_EXCEEDED: CloseCode.limitExceeded,
  CONVERGE_RATE_LIMITED: CloseCode.rateLimited,
  CONVERGE_UNSUPPORTED_VERSION: CloseCode.unsupportedVersion,
  CONVERGE_STORE_WRITE_FAILED: CloseCode.storeFailure,
  CONVERGE_TIMEOUT: CloseCode.heartbeatTimeout,
  CONVERGE_INTERNAL: CloseCode.storeFailure,
  CONVERGE_DOC_DELETED: CloseCode.gone,
}

/** The close code for a connection dropped because of an error with this code (4400 when none is listed). */
export const closeCodeOf = (code: ErrorCode): number => byError[code] ?? CloseCode.malformed
