import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) in its IPv4 form; others as they are. */
const plain = (address: string): string =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address

/**
 * The reverse proxies a relay believes (`--trust-proxy`), and who a request really comes
 * from. Only a request whose direct peer is one of them is read for X-Forwarded-For, and
 * then only its last hop that is not itself a trusted proxy: a proxy appends the address
 * it saw, so what a client wrote into the header itself stays to the left of that and is
 * never believed. Without trusted proxies the header is ignored.
 */
export class TrustedProxies {
  private readonly addresses: Set<string>

  constructor(addresses: readonly string[] = []) {
    this.addresses = new Set(addresses.map(plain))
  }

  /** `address` (a socket's remote address) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    return address !== undefined && this.addresses.has(plain(address))
  }

  /** The client a request comes from: its direct peer, or behind a trusted proxy, the forwarded address. */
  clientOf(request: IncomingMessage): string {
    const direct = plain(request.socket.remoteAddress ?? '')
    if (!this.trusts(direct)) return direct
    const header = request.headers['x-forwarded-for']
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((hop) => plain(hop.trim()))
      .filter((hop) => hop !== '')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string
      if (this.addresses.has(hop)) continue
      // Not an address: the proxy did not write this hop; count the proxy itself.
      return isIP(hop) === 0 ? direct : hop
    }
    return direct
  }
}

/** The client address the edge decided for each upgrade request (see RelayEdge.admitUpgrade). */
const clients = new WeakMap<IncomingMessage, string>()

/** Records the client address of `request` (as TrustedProxies.clientOf decided it). */
export const rememberClient = (request: IncomingMessage, address: string): void => {
  clients.set(request, address)
}

/** Who `request` comes from, for hooks and logs: as the edge decided, else its direct peer. */
export const clientAddressOf = (request: IncomingMessage): string =>
  clients.get(request) ?? request.socket.remoteAddress ?? ''
