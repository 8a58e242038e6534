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
