import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** Which way bytes went: from the side that dialed the proxy ('up') or back to it ('down'). */
export type Direction = 'up' | 'down'

export interface TcpProxyOptions {
  /** Told about every chunk forwarded, with the id of its connection (1, 2, …). */
  onChunk?: (direction: Direction, chunk: Buffer, connection: number) => void
  /** Told when a connection through the proxy opens. */
  onConnection?: (connection: number) => void
}

/**
 * A TCP proxy on 127.0.0.1 that counts the bytes it forwards and can cut the link: `cut()`
 * resets every connection and refuses new ones until `restore()`. The benchmark uses it to
 * partition two relays and to count the bytes their reconnection costs.
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

  static async start(target: { host: string; port: number }, options: TcpProxyOptions = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, options)
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.server.address() as { port: number }).port
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.pairs.size
  }

  resetCounters(): void {
    this.bytes = { up: 0, down: 0 }
  }

  private accept(client: Socket): void {
    if (this.isCut) {
      client.resetAndDestroy()
      return
    }
    const id = this.nextId++
    const upstream = createConnection(this.target)
    const pair: [Socket, Socket] = [client, upstream]
    this.pairs.add(pair)
    this.options.onConnection?.(id)
    const forward = (from: Socket, to: Socket, direction: Direction) => {
      from.on('data', (chunk: Buffer) => {
        this.bytes[direction] += chunk.length
        this.lastActivity = performance.now()
        this.options.onChunk?.(direction, chunk, id)
        to.write(chunk)
      })
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

  /** Resets every connection (as a failed link would) and refuses new ones. */
  cut(): void {
    this.isCut = true
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy()
      upstream.resetAndDestroy()
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
