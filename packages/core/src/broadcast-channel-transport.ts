import type { Transport, TransportHandler, TransportState } from './transport.js'

/**
 * A transport between the tabs of one origin over a BroadcastChannel: what one tab
 * sends, every other tab on the channel receives. Connect it with
 * `replica.connect(broadcastChannel('my-app'), { upstream: false, handshake: false })`:
 * the other tabs are not a relay (nothing is saved by them), and a broadcast has no one
 * to say hello to. Tabs sync with each other with or without a network.
 */
export class BroadcastChannelTransport implements Transport {
  state: TransportState = 'connecting'
  readonly description: string
  private readonly channel: BroadcastChannel
  private handler: TransportHandler | undefined

  constructor(name: string) {
    this.description = `broadcast:${name}`
    this.channel = new BroadcastChannel(name)
    this.channel.onmessage = (event: MessageEvent) => {
      const data = event.data
      if (this.state === 'open' && data instanceof Uint8Array) this.handler?.onMessage(data)
    }
  }

  attach(handler: TransportHandler): void {
    this.handler = handler
    this.state = 'open'
    handler.onOpen()
  }

  send(data: Uint8Array): void {
    if (this.state === 'open') this.channel.postMessage(data)
  }

  close(code = 1000, reason = ''): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.channel.close()
    this.handler?.onClose(code, reason)
  }
}

/** A transport on the BroadcastChannel `name` (see BroadcastChannelTransport). */
export const broadcastChannel = (name: string): BroadcastChannelTransport => new BroadcastChannelTransport(name)
