import type { ServerResponse } from 'node:http'

/**
 * The CSP of the served app (the demo, or any --static directory): its own scripts, styles,
 * images and service worker only; WebSockets to any relay (the demo's `?relay=` may name
 * another one); never framed, so no clickjacking.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** The CSP of everything else (JSON, metrics, the relay's own page): nothing runs, nothing frames it. */
export const API_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

/**
 * Sets the headers every HTTP response of the relay carries: no MIME sniffing, no framing
 * (frame-ancestors for current browsers, X-Frame-Options for old ones), no referrer.
 * A response that serves the app replaces the CSP with APP_CSP.
 */
export const setSecurityHeaders = (res: ServerResponse): void => {
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('x-frame-options', 'DENY')
  res.setHeader('referrer-policy', 'no-referrer')
  res.setHeader('content-security-policy', API_CSP)
}
