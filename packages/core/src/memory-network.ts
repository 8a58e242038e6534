import type { Connector, Transport, TransportHandler, TransportState } from './transport.js'

export interface MemoryNetworkOptions {
  /**
   * true (default): frames are delivered by timers after a random delay in
   * [0, maxDelay] ms. false: nothing moves until `step()` or `drain()` is called, so a
   * test chooses the interleaving.
   */
  auto?: boolean
  /** Upper bound of the per-frame delay in auto mode, in ms. Default 2. */
  maxDelay?: number
  /** Source of randomness (seed it in tests). Default Math.random. */
  random?: () => number
}

/** One connection between two endpoints of the network. */
export interface MemoryLink {
  readonly from: string
  readonly to: string
  /** Frames in flight, both directions. */
  readonly inFlight: number
  /** Closes both ends at once; frames in flight are lost, as on a dropped TCP connection. */
  cut(code?: number, reason?: string): void
}

interface Direction {
  queue: Uint8Array[]
  target: MemoryTransport
  lastDelivery: number
}

class MemoryTransport implements Transport {
  state: TransportState = 'connecting'
  readonly description: string
  handler: TransportHandler | undefined
  remote!: MemoryTransport
  link!: LinkImpl
  out!: Direction
  private opened = false

  constructor(description: string) {
    this.description = description
  }

  attach(handler: TransportHandler): void {
    this.handler = handler
    if (this.state === 'open' && !this.opened) {
      this.opened = true
      handler.onOpen()
    }
  }

  /** Marks the transport open and tells its handler, if attached. */
  open(): void {
    if (this.state !== 'connecting') return
    this.state = 'open'
    if (this.handler !== undefined && !this.opened) {
      this.opened = true
      this.handler.onOpen()
    }
  }

  send(data: Uint8Array): void {
    if (this.state !== 'open') return
    this.link.enqueue(this.out, data.slice())
  }

  close(code = 1000, reason = ''): void {
    this.link.cut(code, reason)
  }

  closed(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.handler?.onClose(code, reason)
  }
}

class LinkImpl implements MemoryLink {
  readonly from: string
  readonly to: string
  readonly a: MemoryTransport
  readonly b: MemoryTransport
  readonly ab: Direction
  readonly ba: Direction
  private readonly net: MemoryNetwork
  alive = true

  constructor(net: MemoryNetwork, from: string, to: string) {
    this.net = net
    this.from = from
    this.to = to
    this.a = new MemoryTransport(`memory:${from}->${to}`)
    this.b = new MemoryTransport(`memory:${to}<-${from}`)
    this.ab = { queue: [], target: this.b, lastDelivery: 0 }
    this.ba = { queue: [], target: this.a, lastDelivery: 0 }
    for (const [t, out, remote] of [
      [this.a, this.ab, this.b],
      [this.b, this.ba, this.a],
    ] as const) {
      t.link = this
      t.out = out
      t.remote = remote
    }
  }

  get inFlight(): number {
    return this.ab.queue.length + this.ba.queue.length
  }

  enqueue(dir: Direction, data: Uint8Array): void {
    if (!this.alive) return
    dir.queue.push(data)
    this.net.scheduled(this, dir)
  }

  /** Delivers the oldest frame of `dir`. */
  deliver(dir: Direction): boolean {
    const frame = dir.queue.shift()
    if (frame === undefined || !this.alive) return false
    if (dir.target.state === 'open') dir.target.handler?.onMessage(frame)
    return true
  }

  cut(code = 1006, reason = 'link cut'): void {
    if (!this.alive) return
    this.alive = false
    this.ab.queue = []
    this.ba.queue = []
    this.net.removed(this)
    // Both ends learn about it on a later turn, as from a socket.
    setTimeout(() => {
      this.a.closed(code, reason)
      this.b.closed(code, reason)
    }, 0)
  }
}

/**
 * An in-memory network for tests: endpoints listen on names, connectors dial them, and
 * the network delays frames, reorders them across links (never within one: each link
 * is ordered, like a TCP connection), loses what is in flight when a link is cut, and
 * refuses links across a partition.
 */
export class MemoryNetwork {
  private readonly listeners = new Map<string, (t: Transport) => void>()
  private readonly links = new Set<LinkImpl>()
  private readonly auto: boolean
  private readonly maxDelay: number
  private readonly random: () => number
  private groups: Map<string, number> | undefined
  /** Frames delivered so far. */
  delivered = 0

  constructor(options: MemoryNetworkOptions = {}) {
    this.auto = options.auto ?? true
    this.maxDelay = options.maxDelay ?? 2
    this.random = options.random ?? Math.random
  }

  /** Accepts connections dialed to `address`. */
  listen(address: string, accept: (t: Transport) => void): void {
    this.listeners.set(address, accept)
  }

  unlisten(address: string): void {
    this.listeners.delete(address)
  }

  /** A Connector that dials `address` as `from` (the name used by partitions). */
  connector(address: string, from = 'anonymous'): Connector {
    return () => {
      const link = new LinkImpl(this, from, address)
      const accept = this.listeners.get(address)
      if (accept === undefined || !this.reachable(from, address)) {
        link.cut(1006, 'unreachable')
        return link.a
      }
      this.links.add(link)
      setTimeout(() => {
        if (!link.alive) return
        accept(link.b)
        link.b.open()
        link.a.open()
      }, 0)
      return link.a
    }
  }

  /** Open links. */
  openLinks(): MemoryLink[] {
    return [...this.links]
  }

  /** Frames in flight on all links. */
  get inFlight(): number {
    let n = 0
    for (const l of this.links) n += l.inFlight
    return n
  }

  /**
   * Splits the endpoints into groups that cannot reach each other: open links across
   * groups are cut and new ones refused. Endpoints in no group reach everyone.
   */
  partition(...groups: string[][]): void {
    this.groups = new Map()
    groups.forEach((g, i) => {
      for (const name of g) this.groups?.set(name, i)
    })
    for (const link of [...this.links]) if (!this.reachable(link.from, link.to)) link.cut(1006, 'partition')
  }

  /** Ends every partition. */
  heal(): void {
    this.groups = undefined
  }

  /** Cuts every open link that touches `name`. */
  cutAll(name: string): void {
    for (const link of [...this.links]) if (link.from === name || link.to === name) link.cut(1006, 'cut')
  }

  private reachable(a: string, b: string): boolean {
    if (this.groups === undefined) return true
    const ga = this.groups.get(a)
    const gb = this.groups.get(b)
    return ga === undefined || gb === undefined || ga === gb
  }

  /** Manual mode: delivers one frame from a randomly chosen link direction. False when nothing is in flight. */
  step(): boolean {
    const dirs: Array<[LinkImpl, Direction]> = []
    for (const l of this.links) {
      if (l.ab.queue.length > 0) dirs.push([l, l.ab])
      if (l.ba.queue.length > 0) dirs.push([l, l.ba])
    }
    if (dirs.length === 0) return false
    const [link, dir] = dirs[Math.floor(this.random() * dirs.length)] as [LinkImpl, Direction]
    if (link.deliver(dir)) this.delivered++
    return true
  }

  scheduled(link: LinkImpl, dir: Direction): void {
    if (!this.auto) return
    const now = Date.now()
    // Later than the previous frame of this direction: each link stays in order.
    const at = Math.max(dir.lastDelivery, now + Math.floor(this.random() * (this.maxDelay + 1)))
    dir.lastDelivery = at
    setTimeout(() => {
      if (link.deliver(dir)) this.delivered++
    }, at - now)
  }

  removed(link: LinkImpl): void {
    this.links.delete(link)
  }
}
