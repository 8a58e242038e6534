/**
 * Parsers of option values as they arrive from flags, environment variables and the config
 * file (strings). Each throws an OptionValueError that says what was expected; the caller
 * names the source (`--port`, `PORT=`, `converge.config.json: port`).
 */
export class OptionValueError extends Error {}

export const nonNegativeInt = (raw: string): number => {
  const n = Number(raw.trim())
  if (raw.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new OptionValueError(`${JSON.stringify(raw)} is not a non-negative integer`)
  }
  return n
}

export const port = (raw: string): number => {
  const n = nonNegativeInt(raw)
  if (n > 65_535) throw new OptionValueError(`${n} is not a port (0-65535)`)
  return n
}

export const text = (raw: string): string => {
  if (raw === '') throw new OptionValueError('is empty')
  return raw
}

export const bool = (raw: string): boolean => {
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false
  throw new OptionValueError(`${JSON.stringify(raw)} is not a boolean (true/false, 1/0)`)
}

export const oneOf =
  <T extends string>(choices: readonly T[]) =>
  (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new OptionValueError(`${JSON.stringify(raw)} is not one of ${choices.join(', ')}`)
    }
    return raw as T
  }

/**
 * A relay URL to dial: ws:// or wss://, with a host. Checked at startup, so a typo fails
 * there with this message instead of retrying silently forever.
 */
export const peerUrl = (raw: string): string => {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new OptionValueError(`${JSON.stringify(raw)} has no scheme; a peer is ws://host:port or wss://host:port`)
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new OptionValueError(`${JSON.stringify(raw)} is not a URL; a peer is ws://host:port or wss://host:port`)
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new OptionValueError(
      `${JSON.stringify(raw)} has scheme ${url.protocol.replace(/:$/, '')}; a peer is ws://host:port or wss://host:port`,
    )
  }
  if (url.hostname === '') throw new OptionValueError(`${JSON.stringify(raw)} has no host`)
  return raw
}

/** A comma-separated list of peer URLs (one flag may also be repeated). */
export const peerUrls = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(peerUrl)

/** A comma-separated list of non-empty strings (one flag may also be repeated). */
export const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** Seconds, or a duration with a unit: 90, 45s, 30m, 12h, 30d. */
export const seconds = (raw: string): number => {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(raw.trim())
  if (m === null) throw new OptionValueError(`${JSON.stringify(raw)} is not seconds or a duration like 30m, 12h, 30d`)
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's']
}

/** Comma-separated `KID=SECRET` pairs (one flag may also be repeated). */
export const keyPairs = (raw: string): Record<string, string> => {
  const pairs: Record<string, string> = {}
  for (const item of list(raw)) {
    const at = item.indexOf('=')
    if (at <= 0) throw new OptionValueError('is not KID=SECRET')
    pairs[item.slice(0, at)] = item.slice(at + 1)
  }
  return pairs
}

/** A listen address: `host:port`, `[ipv6]:port`, or a bare port (then on loopback, 127.0.0.1). */
export const listenAddress = (raw: string): string => {
  const v = raw.trim()
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(v) ?? /^()()(\d+)$/.exec(v)
  if (m === null) throw new OptionValueError(`${JSON.stringify(raw)} is not host:port`)
  const host = m[1] || m[2] || '127.0.0.1'
  port(m[3] as string)
  return `${host.includes(':') ? `[${host}]` : host}:${m[3]}`
}

/** The host and port of a listenAddress. */
export const splitListenAddress = (address: string): { host: string; port: number } => {
  const at = address.lastIndexOf(':')
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) }
}
