/**
 * A duplex of binary messages: one connection's lifetime. Reconnecting is the job of
 * whoever holds a `Connector`, which makes a fresh Transport per attempt.
 */
export interface TransportHandler {
  /** The connection is ready to send. Called once; immediately on attach if already open. */
  onOpen(): void
  /** One whole message from the remote side. */
  onMessage(data: Uint8Array): void
  /** The connection is gone. Called once, after which nothing else is called. */
  onClose(code: number, reason: string): void
}

export type TransportState = 'connecting' | 'open' | 'closed'

export interface Transport {
  readonly state: TransportState
  /** Wires the single consumer of this transport's events. */
  attach(handler: TransportHandler): void
  /** Sends one message; dropped silently once closed. */
  send(data: Uint8Array): void
  /** Closes the connection; the handler's onClose follows. */
  close(code?: number, reason?: string): void
  /** Bytes queued but not yet handed to the network, where the transport knows it. */
  readonly bufferedAmount?: number
  /**
   * Stops reading the connection (flow control): messages already read may still arrive,
   * nothing more is read from the network, and TCP slows the sender. Where the transport
   * cannot (a browser WebSocket, a BroadcastChannel), absent.
   */
  pause?(): void
  /** Reads the connection again after `pause`. */
  resume?(): void
  /** A short description for logs and errors ("ws://127.0.0.1:1234", "broadcast:notes"). */
  readonly description?: string
}

/** Makes a new Transport for each connection attempt. */
export type Connector = () => Transport

export const isConnector = (x: Transport | Connector): x is Connector => typeof x === 'function'
