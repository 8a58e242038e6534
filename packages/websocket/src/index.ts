import WebSocket from 'ws'
import { makeWebSocketConnector } from './websocket-connector.js'
import type { WebSocketConstructor } from './websocket-transport.js'

export {
  DEFAULT_SERVER_OPTIONS,
  docNameOf,
  ReplicaWebSocketServer,
  type ReplicaWebSocketServerOptions,
} from './replica-websocket-server.js'
export type { WebSocketConnectorOptions } from './websocket-connector.js'
export {
  type WebSocketConstructor,
  type WebSocketLike,
  WebSocketTransport,
  type WebSocketTransportOptions,
} from './websocket-transport.js'

/**
 * A Connector for `replica.connect()` that dials `url` with `ws` (Node) and speaks
 * converge.v1: `replica.connect(websocket('ws://localhost:1234'))`.
 */
export const websocket = makeWebSocketConnector(() => WebSocket as unknown as WebSocketConstructor)
