/** Query parameters whose values are credentials, never to be logged. */
const SECRET_PARAMS = /([?&](?:token|access_token|auth|key|secret)=)[^&#\s]*/gi

/**
 * A URL (or any text holding one) with the values of credential query parameters replaced
 * by `[redacted]`: y-websocket clients send their token as `?token=`, and a log line must
 * never carry a working token.
 */
export const redactUrl = (url: string | undefined): string | undefined => url?.replace(SECRET_PARAMS, '$1[redacted]')

/** pino serializers for the relay's log: every `url` field goes through redactUrl. */
export const logSerializers = { url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url) }
