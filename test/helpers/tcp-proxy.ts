import { TcpProxy as CountingTcpProxy } from '../bench/lib/tcp-proxy.js'

/**
 * The benchmark's TCP proxy (test/bench/lib/tcp-proxy.ts) as a test puts it between two
 * processes so it can cut the link: it pipes both ways with TCP_NODELAY, and `cut()`
 * destroys every forwarded connection and refuses new ones (accepted, then dropped at
 * once, so the port stays the proxy's) until `restore()`.
 */
export type TcpProxy = CountingTcpProxy

export const TcpProxy = {
  /** Listens on `port` (default: a free one) and forwards to 127.0.0.1:`targetPort`. */
  start: (targetPort: number, port = 0): Promise<TcpProxy> =>
    CountingTcpProxy.start(targetPort, { port, cutWith: 'close', pipe: true, noDelay: true }),
}
