/** Stable error codes. Match on `err.code`, never on the message. */
export type ErrorCode =
  | 'CONVERGE_MALFORMED_MESSAGE'
  | 'CONVERGE_UNSUPPORTED_VERSION'
  | 'CONVERGE_INVALID_DOC_NAME'
  | 'CONVERGE_NOT_OPEN'
  | 'CONVERGE_AUTH_DENIED'
  | 'CONVERGE_FORBIDDEN'
  | 'CONVERGE_LIMIT_EXCEEDED'
  | 'CONVERGE_STORE_CLOSED'
  | 'CONVERGE_STORE_WRITE_FAILED'
  | 'CONVERGE_REPLICA_DESTROYED'
  | 'CONVERGE_TIMEOUT'
  | 'CONVERGE_INTERNAL'
  | 'CONVERGE_RATE_LIMITED'
  | 'CONVERGE_DOC_DELETED'

/** An error with a stable `code` and, where there is one, the underlying `cause`. */
export class ConvergeError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ConvergeError'
    this.code = code
  }
}

export const isConvergeError = (err: unknown, code?: ErrorCode): err is ConvergeError =>
  err instanceof ConvergeError && (code === undefined || err.code === code)

/**
 * lib0's decoders throw these two shared errors on bytes that end early or overflow. Such a
 * failure can only come from bytes a peer sent (what this side encodes always decodes), so
 * it is malformed input, whichever decoding step met it first.
 */
const DECODE_FAILURES = new Set(['Unexpected end of array', 'Integer out of Range'])

export const isDecodeError = (err: unknown): boolean => err instanceof Error && DECODE_FAILURES.has(err.message)
