import type { Connector } from '@converge/core'
import { browserNetwork, type NetworkStatus, OnlineTransport } from './online-transport.js'
import { makeWebSocketConnector, type WebSocketConnectorOptions } from './websocket-connector.js'
import type { WebSocketConstructor } from './websocket-transport.js'

export { type NetworkStatus, OFFLINE_CLOSE_CODE, OnlineTransport } from './online-transport.js'
export type { WebSocketConnectorOptions } from './websocket-connector.js'
export { type WebSocketConstructor, type WebSocketLike, WebSocketTransport } from './websocket-transport.js'

export interface BrowserWebSocketOptions extends WebSocketConnectorOptions {
  /**
   * Follow the browser's online/offline events: no dialing while offline, a dial as soon as
   * it is back online, and the socket closed the moment it goes offline. Default true
   * where `navigator.onLine` exists; pass false to dial blindly, or a NetworkStatus to test.
   */
  followNetwork?: boolean | NetworkStatus
}

const dialWebSocket = makeWebSocketConnector(
  () => (globalThis as { WebSocket?: unknown }).WebSocket as WebSocketConstructor | undefined,
)

/**
 * A Connector for `replica.connect()` that dials `url` with the browser's WebSocket and
 * speaks converge.v1: `replica.connect(websocket('wss://relay.example.com'))`.
 */
export const websocket = (url: string, options: BrowserWebSocketOptions = {}): Connector => {
  const dial = dialWebSocket(url, options)
  const { followNetwork = true } = options
  const network = followNetwork === true ? browserNetwork() : followNetwork === false ? undefined : followNetwork
  if (network === undefined) return dial
  const target = new URL(url)
  const description = `${target.origin}${target.pathname}`
  return () => new OnlineTransport(dial, network, description)
}
