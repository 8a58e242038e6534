import { makeWebSocketConnector } from './websocket-connector.js'
import type { WebSocketConstructor } from './websocket-transport.js'

export type { WebSocketConnectorOptions } from './websocket-connector.js'
export { type WebSocketConstructor, type WebSocketLike, WebSocketTransport } from './websocket-transport.js'

/**
 * A Connector for `replica.connect()` that dials `url` with the browser's WebSocket and
 * speaks converge.v1: `replica.connect(websocket('wss://relay.example.com'))`.
 */
export const websocket = makeWebSocketConnector(
  () => (globalThis as { WebSocket?: unknown }).WebSocket as WebSocketConstructor | undefined,
)
