import type { Transport, TransportHandler, TransportState } from '@converge/core'

/** The part of the WebSocket API (browser or `ws`) that the transport uses. */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  readonly protocol: string
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}

/**
 * What Node's `ws` adds to WebSocketLike: its 'message' event, which hands a frame over as
 * a Buffer (with binaryType 'nodebuffer'), without the event object `onmessage` costs.
 */
interface NodeEventSocket {
  on(event: 'message', listener: (this: TaggedSocket, data: unknown) => void): unknown
  on(event: 'open', listener: (this: TaggedSocket) => void): unknown
  on(event: 'close', listener: (this: TaggedSocket, code: number, reason: { toString(): string }) => void): unknown
  on(event: 'error', listener: () => void): unknown
}

/** Where a `ws` socket keeps its transport, for the listeners every transport shares. */
const kTransport = Symbol('converge.transport')
type TaggedSocket = { [kTransport]?: WebSocketTransport }

/** An error is always followed by close; nothing to do here but keep it from being unhandled. */
const ignoreError = (): void => undefined

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

const OPEN = 1
const encoder = new TextEncoder()

export interface WebSocketTransportOptions {
  /**
   * After `close()`, wait this long for the closing handshake before dropping the socket
   * (only where the socket can be terminated, as with `ws`). Default 1_000 ms.
   */
  closeTimeout?: number
  /**
   * How a frame is handed to the socket. Default `socket.send(data)`; a server on `ws`
   * passes `sendPrepared` (ws-prepared-frames.ts), which writes shared frames pre-framed.
   */
  send?: (socket: WebSocketLike, data: Uint8Array) => void
}

const sendPlain = (socket: WebSocketLike, data: Uint8Array): void => socket.send(data)

/**
 * A Transport over one WebSocket. Text frames are passed on as their UTF-8 bytes, which
 * no converge decoder accepts, so a peer that sends text is closed as malformed.
 * `close()` reports the close to the handler at once; the socket finishes closing in
 * the background.
 */
export class WebSocketTransport implements Transport {
  state: TransportState
  readonly description: string
  private readonly socket: WebSocketLike
  private handler: TransportHandler | undefined
  private openReported = false
  private closeReported = false
  private readonly closeTimeout: number
  private paused = false
  private pausedSinceAsked = false
  private readonly sendData: (socket: WebSocketLike, data: Uint8Array) => void

  constructor(socket: WebSocketLike, description: string, options: WebSocketTransportOptions = {}) {
    this.socket = socket
    this.description = description
    this.closeTimeout = options.closeTimeout ?? 1_000
    this.sendData = options.send ?? sendPlain
    this.state = socket.readyState === OPEN ? 'open' : socket.readyState > OPEN ? 'closed' : 'connecting'
    if (typeof (socket as Partial<NodeEventSocket>).on === 'function') {
      // Node's `ws`: its events, frames as Buffers straight from its receiver. The listeners
      // are shared by every transport and find this one on the socket: a server holds
      // thousands of sockets, and a closure per listener (with the wrapper `ws` makes for
      // each `onX` handler) cost about 0.5 KiB each.
      socket.binaryType = 'nodebuffer'
      ;(socket as TaggedSocket)[kTransport] = this
      const events = socket as unknown as NodeEventSocket
      if (this.state === 'connecting') events.on('open', WebSocketTransport.nodeOpened)
      events.on('message', WebSocketTransport.nodeMessage)
      events.on('close', WebSocketTransport.nodeClosed)
      events.on('error', ignoreError)
      return
    }
    socket.onopen = () => this.opened()
    socket.binaryType = 'arraybuffer'
    socket.onmessage = (event) => this.received(event.data)
    socket.onclose = (event) => this.reportClose(event.code, event.reason)
    socket.onerror = ignoreError
  }

  private static nodeOpened(this: TaggedSocket): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the socket (a shared listener), not the class
    this[kTransport]?.opened()
  }

  private static nodeMessage(this: TaggedSocket, data: unknown): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the socket (a shared listener), not the class
    this[kTransport]?.received(data)
  }

  /** `ws`'s 'close' event: what its `onclose` handler would get (the reason as a string). */
  private static nodeClosed(this: TaggedSocket, code: number, reason: { toString(): string }): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the socket (a shared listener), not the class
    this[kTransport]?.reportClose(code, reason.toString())
  }

  private opened(): void {
    if (this.state !== 'connecting') return
    this.state = 'open'
    this.reportOpen()
  }

  private received(data: unknown): void {
    if (this.state !== 'open') return
    let bytes: Uint8Array
    if (ArrayBuffer.isView(data)) {
      // A Buffer from `ws` may be a view of a larger chunk read from the socket: copied then,
      // so that nothing kept of a message (a pending update) keeps the rest of the chunk
      // alive; a plain Uint8Array either way (its `slice` copies, as converge's code expects).
      bytes =
        data.byteLength === data.buffer.byteLength
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
    } else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data)
    else if (typeof data === 'string') bytes = encoder.encode(data)
    else if (Array.isArray(data)) bytes = concat(data as Uint8Array[])
    else return
    this.handler?.onMessage(bytes)
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  /** Stops reading the socket where it can (`ws` in Node): TCP then slows the sender. */
  pause(): void {
    if (this.state === 'closed') return
    this.paused = true
    this.pausedSinceAsked = true
    ;(this.socket as { pause?: () => void }).pause?.()
  }

  /** True when the socket is paused or was since the last call (a server's liveness check skips it then). */
  takePausedFlag(): boolean {
    const was = this.pausedSinceAsked || this.paused
    this.pausedSinceAsked = false
    return was
  }

  /** Reads the socket again after `pause`. */
  resume(): void {
    if (this.state === 'closed') return
    this.paused = false
    ;(this.socket as { resume?: () => void }).resume?.()
  }

  /** The subprotocol the server chose. */
  get protocol(): string {
    return this.socket.protocol
  }

  attach(handler: TransportHandler): void {
    this.handler = handler
    if (this.state === 'open') this.reportOpen()
    else if (this.state === 'closed') this.reportClose(1006, 'closed before attach')
  }

  send(data: Uint8Array): void {
    if (this.state !== 'open' || this.socket.readyState !== OPEN) return
    try {
      this.sendData(this.socket, data)
    } catch {
      // The socket is closing; its close event follows.
    }
  }

  close(code = 1000, reason = ''): void {
    if (this.state === 'closed') return
    try {
      this.socket.close(code, reason.slice(0, 120))
    } catch {
      this.socket.close()
    }
    const terminate = (this.socket as { terminate?: () => void }).terminate
    if (typeof terminate === 'function') {
      const timer = setTimeout(() => terminate.call(this.socket), this.closeTimeout)
      ;(timer as { unref?: () => void }).unref?.()
    }
    this.reportClose(code, reason)
  }

  private reportOpen(): void {
    if (this.openReported || this.handler === undefined) return
    this.openReported = true
    this.handler.onOpen()
  }

  private reportClose(code: number, reason: string): void {
    this.state = 'closed'
    if (this.closeReported || this.handler === undefined) return
    this.closeReported = true
    this.handler.onClose(code, reason)
  }
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
