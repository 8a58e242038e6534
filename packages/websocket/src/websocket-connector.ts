import { type Connector, MUX_PROTOCOL } from '@converge/core'
import { type WebSocketConstructor, WebSocketTransport } from './websocket-transport.js'

export interface WebSocketConnectorOptions {
  /**
   * The WebSocket implementation. Default: the global WebSocket (browsers), or `ws` in
   * the Node build of this package.
   */
  WebSocket?: WebSocketConstructor
  /** Query parameters added to the URL (for example a token for a y-websocket server). */
  params?: Record<string, string>
  /**
   * Subprotocols to offer. Default ['converge.v1']. Pass [] to speak the y-websocket
   * framing to `ws://host/<doc>` (then use `framing: { yWebsocketDoc }` on connect).
   */
  protocols?: string[]
}

/** Resolves the WebSocket implementation when none is given. */
export type DefaultWebSocket = () => WebSocketConstructor | undefined

/**
 * A Connector that dials `url` afresh for every connection attempt: pass it to
 * `replica.connect()` and the replica reconnects with backoff whenever the socket drops.
 */
export const makeWebSocketConnector =
  (defaultWebSocket: DefaultWebSocket) =>
  (url: string, options: WebSocketConnectorOptions = {}): Connector => {
    const WebSocketImpl = options.WebSocket ?? defaultWebSocket()
    if (WebSocketImpl === undefined) {
      throw new Error('no WebSocket implementation: pass options.WebSocket (for example `ws` in Node)')
    }
    const target = new URL(url)
    for (const [k, v] of Object.entries(options.params ?? {})) target.searchParams.set(k, v)
    const href = target.toString()
    const protocols = options.protocols ?? [MUX_PROTOCOL]
    // The description goes to logs: the URL without its query, which may hold a token.
    const description = `${target.origin}${target.pathname}`
    return () => new WebSocketTransport(new WebSocketImpl(href, protocols), description)
  }
