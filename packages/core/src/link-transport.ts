/**
 * One transport of a link (link.ts): the handler of its events and the target of its flow
 * control, in one object of a class, where a closure per callback (nine, with their scopes)
 * cost about 0.6 KiB of heap per connection on a relay. Every event of a transport the link
 * has moved on from (it redialled, or closed) is dropped here.
 */
import { ConvergeError } from './errors.js'
import type { FlowTarget } from './flow-control.js'
import type { LinkIdentity } from './handshake.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { Transport, TransportHandler } from './transport.js'

/** What a LinkTransport needs of its link. */
export interface TransportOwner {
  readonly config: { readonly observer: ReplicaObserver }
  readonly remote: LinkIdentity
  /** The remote is exempt from the pacing and flow ceilings (a mesh link). */
  readonly exempt: boolean
  /** `transport` is the link's current one. */
  isCurrent(transport: Transport): boolean
  transportOpened(transport: Transport): void
  transportFrame(data: Uint8Array): void
  transportClosed(code: number, reason: string): void
  fail(err: unknown, closeCode?: number): void
}

export class LinkTransport implements TransportHandler, FlowTarget {
  private readonly link: TransportOwner
  private readonly transport: Transport
  /** The remote dialled this side: the flow ceilings may apply. */
  private readonly accepted: boolean

  constructor(link: TransportOwner, transport: Transport, accepted: boolean) {
    this.link = link
    this.transport = transport
    this.accepted = accepted
  }

  // --- TransportHandler ---

  onOpen(): void {
    if (this.link.isCurrent(this.transport)) this.link.transportOpened(this.transport)
  }

  onMessage(data: Uint8Array): void {
    if (this.link.isCurrent(this.transport)) this.link.transportFrame(data)
  }

  onClose(code: number, reason: string): void {
    if (this.link.isCurrent(this.transport)) this.link.transportClosed(code, reason)
  }

  // --- FlowTarget ---

  pause(): void {
    this.transport.pause?.()
  }

  resume(): void {
    this.transport.resume?.()
  }

  /** Reported like every error: error event, observer, error frame, then the close. */
  close(code: number, reason: string, errorCode: 'CONVERGE_RATE_LIMITED' | 'CONVERGE_LIMIT_EXCEEDED'): void {
    if (this.link.isCurrent(this.transport)) this.link.fail(new ConvergeError(errorCode, reason), code)
  }

  limited(): boolean {
    return this.accepted && !this.link.exempt
  }

  paused(): void {
    this.link.config.observer.flowPaused?.(this.link.remote.remoteId)
  }

  resumed(ms: number): void {
    this.link.config.observer.flowResumed?.(this.link.remote.remoteId, ms)
  }
}
