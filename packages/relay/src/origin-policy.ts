import type { IncomingMessage } from 'node:http'
import { hostname, networkInterfaces } from 'node:os'

/**
 * Which browser pages may open a WebSocket to this relay (cross-site WebSocket hijacking),
 * and under which Host names (DNS rebinding). Browsers always send `Origin` on a WebSocket
 * upgrade and cannot forge it; Node and native clients send none and are not subject to
 * these checks (they could send any header anyway).
 */
export interface OriginPolicyOptions {
  /** The interface the relay listens on (--host). */
  listenHost: string
  /** True when a connection is admitted without a bearer token (no --auth-secret). */
  ambientAuthority: boolean
  /** Origins allowed ('https://app.example.com'; '*' for any). Default: see `originPolicy`. */
  allowedOrigins?: string[]
  /** Host names browsers may reach the relay by ('relay.example.com', optionally ':port'; '*' for any). */
  allowedHosts?: string[]
}

/** A decision: undefined to accept, else the reason of a 403. */
export type UpgradeCheck = (request: IncomingMessage) => string | undefined

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1', '[::1]']

/** True for localhost, *.localhost, 127.0.0.0/8 and ::1. */
export const isLoopbackHost = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h)
}

/** Splits 'name:port' or '[v6]:port' into a lower-case host name and the port (or ''). */
const splitHost = (host: string): { name: string; port: string } => {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase())
  if (m === null) return { name: host.trim().toLowerCase(), port: '' }
  return { name: (m[1] as string).replace(/^\[|\]$/g, ''), port: m[2] ?? '' }
}

const parseOrigin = (origin: string): URL | undefined => {
  try {
    return new URL(origin)
  } catch {
    return undefined
  }
}

/** Names a machine answers to when listening beyond loopback: its host name and addresses. */
const localNames = (listenHost: string): string[] => {
  const names = [...LOOPBACK_NAMES, hostname()]
  if (listenHost !== '0.0.0.0' && listenHost !== '::') names.push(listenHost)
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) names.push(a.address)
  }
  return names.map((n) => splitHost(n).name)
}

/**
 * The upgrade check of a relay.
 *
 * Origins: with `allowedOrigins`, exactly those. Without, a relay that requires tokens
 * accepts any origin (browsers do not send bearer tokens on their own); an open relay
 * (ambient authority) accepts its own origin (an `Origin` naming the `Host` it was reached
 * by), and, while it listens on loopback, any loopback origin on any port.
 *
 * Hosts (checked for browser requests only): with `allowedHosts`, exactly those. Without, a
 * relay that requires tokens accepts any; an open relay on loopback accepts loopback names
 * only, and an open relay beyond loopback its machine's host name and addresses.
 */
export const originPolicy = (options: OriginPolicyOptions): UpgradeCheck => {
  const loopback = isLoopbackHost(options.listenHost)
  const origins = options.allowedOrigins?.map((o) => (o === '*' ? o : (parseOrigin(o)?.origin ?? o)))
  const anyOrigin = origins?.includes('*') ?? !options.ambientAuthority
  const hosts =
    options.allowedHosts ??
    (options.ambientAuthority
      ? loopback
        ? ['localhost', '*.localhost', '127.0.0.1', '::1']
        : localNames(options.listenHost)
      : ['*'])
  const anyHost = hosts.includes('*')
  const hostAllowed = (host: string) => {
    const { name, port } = splitHost(host)
    return hosts.some((allowed) => {
      const a = splitHost(allowed)
      if (a.port !== '' && a.port !== port) return false
      if (a.name.startsWith('*.')) return name.endsWith(a.name.slice(1))
      if (a.name === '127.0.0.1') return /^127\.\d+\.\d+\.\d+$/.test(name)
      return a.name === name
    })
  }
  return (request) => {
    const origin = request.headers.origin
    if (origin === undefined) return undefined
    const host = request.headers.host ?? ''
    if (!anyHost && !hostAllowed(host)) return `host ${JSON.stringify(host)} is not allowed (--allowed-hosts)`
    if (anyOrigin) return undefined
    const url = parseOrigin(origin)
    if (origins?.includes(url?.origin ?? origin)) return undefined
    if (origins === undefined && url !== undefined) {
      if (url.host.toLowerCase() === host.toLowerCase()) return undefined
      if (loopback && isLoopbackHost(url.hostname)) return undefined
    }
    return `origin ${JSON.stringify(origin.slice(0, 200))} is not allowed (--allowed-origins)`
  }
}
