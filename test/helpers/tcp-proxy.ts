import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/**
 * A TCP forwarder on 127.0.0.1 that a test puts between two processes so it can cut the
 * link: `cut()` destroys every forwarded connection and refuses new ones (accepted, then
 * dropped at once, so the port stays the proxy's) until `restore()`.
 */
export class TcpProxy {
  readonly server: Server
  readonly targetPort: number
  private readonly pairs = new Set<[Socket, Socket]>()
  private isCut = false

  private constructor(targetPort: number) {
    this.targetPort = targetPort
    this.server = createServer((client) => this.forward(client))
  }

  /** Listens on `port` (default: a free one) and forwards to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number, port = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort)
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen(port, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.server.address() as { port: number }).port
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  get cutOff(): boolean {
    return this.isCut
  }

  /** Connections being forwarded now. */
  get connections(): number {
    return this.pairs.size
  }

  private forward(client: Socket): void {
    if (this.isCut) {
      client.destroy()
      return
    }
    const upstream = tcpConnect(this.targetPort, '127.0.0.1')
    const pair: [Socket, Socket] = [client, upstream]
    this.pairs.add(pair)
    const drop = () => {
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const s of pair) {
      s.setNoDelay(true)
      s.on('error', drop)
      s.on('close', drop)
    }
    client.pipe(upstream)
    upstream.pipe(client)
  }

  /** Destroys every forwarded connection and refuses new ones. */
  cut(): void {
    this.isCut = true
    for (const [client, upstream] of [...this.pairs]) {
      client.destroy()
      upstream.destroy()
    }
    this.pairs.clear()
  }

  /** Forwards new connections again. */
  restore(): void {
    this.isCut = false
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
