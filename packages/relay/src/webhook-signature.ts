import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The signature header of a webhook delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the
 * HMAC keyed with the webhook secret over `<t>.<body>`. A receiver recomputes it over the
 * raw body and rejects a stale `t` to stop replays.
 */
export const signWebhook = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`

/** Checks a signature header against the body; `toleranceSeconds` bounds the age of `t`. */
export const verifyWebhook = (
  secret: string,
  header: string,
  body: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean => {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]))
  const t = Number(parts.t)
  if (!Number.isSafeInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds || parts.v1 === undefined) return false
  const expected = Buffer.from(signWebhook(secret, t, body).split('v1=')[1] as string, 'hex')
  const given = Buffer.from(parts.v1, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
