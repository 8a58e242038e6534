import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** Which way bytes went: from the side that dialed the proxy ('up') or back to it ('down'). */
export type Direction = 'up' | 'down'

export interface TcpProxyOptions {
  /** Told about every chunk forwarded, with the id of its connection (1, 2, …). */
  onChunk?: (direction: Direction, chunk: Buffer, connection: number) => void
  /** Told when a connection through the proxy opens. */
  onConnection?: (connection: number) => void
  /** The port to listen on (default: a free one). */
  port?: number
  /**
   * How `cut()` ends a connection, and how a cut proxy refuses a new one: 'reset' (a TCP
   * reset, as a failed link would; the default) or 'close' (destroyed without a reset).
   */
  cutWith?: 'reset' | 'close'
  /**
   * Forwards with `stream.pipe` (a side is paused while the other drains, and an end is
   * passed on) instead of writing every chunk on as it comes (the default).
   */
  pipe?: boolean
  /** Sets TCP_NODELAY on both sockets of every connection. */
  noDelay?: boolean
}

/**
 * A TCP proxy on 127.0.0.1 that counts the bytes it forwards and can cut the link: `cut()`
 * ends every connection and refuses new ones until `restore()`. The benchmark uses it to
 * partition two relays and to count the bytes their reconnection costs; tests put it
 * between two processes to cut the link between them.
 */
export class TcpProxy {
  /** Bytes forwarded each way since the last `resetCounters()`. */
  bytes = { up: 0, down: 0 }
  /** When the last byte went through (performance.now()). */
  lastActivity = 0
  private readonly server: Server
  private readonly target: { host: string; port: number }
  private readonly options: TcpProxyOptions
  private readonly pairs = new Set<[Socket, Socket]>()
  private isCut = false
  private nextId = 1

  private constructor(target: { host: string; port: number }, options: TcpProxyOptions) {
    this.target = target
    this.options = options
    this.server = createServer((client) => this.accept(client))
  }

  /** Listens on 127.0.0.1 and forwards to `target` (a port alone: on 127.0.0.1). */
  static async start(
    target: number | { host: string; port: number },
    options: TcpProxyOptions = {},
  ): Promise<TcpProxy> {
    const proxy = new TcpProxy(typeof target === 'number' ? { host: '127.0.0.1', port: target } : target, options)
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.server.address() as { port: number }).port
  }

  /** ws://127.0.0.1:PORT of the proxy. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  /** Whether the link is cut (between `cut()` and `restore()`). */
  get cutOff(): boolean {
    return this.isCut
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.pairs.size
  }

  resetCounters(): void {
    this.bytes = { up: 0, down: 0 }
  }

  private end(socket: Socket): void {
    if (this.options.cutWith === 'close') socket.destroy()
    else socket.resetAndDestroy()
  }

  private accept(client: Socket): void {
    if (this.isCut) {
      this.end(client)
      return
    }
    const id = this.nextId++
    const upstream = createConnection(this.target)
    const pair: [Socket, Socket] = [client, upstream]
    this.pairs.add(pair)
    this.options.onConnection?.(id)
    if (this.options.noDelay === true) for (const s of pair) s.setNoDelay(true)
    const forward = (from: Socket, to: Socket, direction: Direction) => {
      from.on('data', (chunk: Buffer) => {
        this.bytes[direction] += chunk.length
        this.lastActivity = performance.now()
        this.options.onChunk?.(direction, chunk, id)
        if (this.options.pipe !== true) to.write(chunk)
      })
      if (this.options.pipe === true) from.pipe(to)
    }
    forward(client, upstream, 'up')
    forward(upstream, client, 'down')
    const close = () => {
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', close)
    upstream.on('close', close)
    client.on('error', close)
    upstream.on('error', close)
  }

  /** Ends every connection (by default with a reset, as a failed link would) and refuses new ones. */
  cut(): void {
    this.isCut = true
    for (const [client, upstream] of this.pairs) {
      this.end(client)
      this.end(upstream)
    }
    this.pairs.clear()
  }

  /** Accepts connections again. */
  restore(): void {
    this.isCut = false
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
