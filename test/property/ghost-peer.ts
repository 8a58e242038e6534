import {
  decodeMuxFrame,
  encodeMuxFrame,
  type MemoryNetwork,
  type Message,
  PROTOCOL_VERSION,
  type Transport,
} from '@converge/core'

/**
 * The duplicate-delivery fault: a peer that dials a relay on a fresh connection, says
 * hello as a client, subscribes to one document and replays one update that some relay
 * already made durable, then leaves once the relay acknowledges it. This is how the same
 * update really arrives twice (a resend after a reconnect, another path through the
 * mesh); duplicating frames inside one connection is not, since converge.v1 runs over
 * ordered, reliable connections (see README.md).
 */
export class GhostPeer {
  readonly name: string
  readonly doc: string
  acknowledged = false
  closed = false
  private readonly transport: Transport

  constructor(net: MemoryNetwork, relay: string, name: string, doc: string, update: Uint8Array) {
    this.name = name
    this.doc = doc
    const transport = net.connector(relay, name)()
    this.transport = transport
    const send = (m: Message) => transport.send(encodeMuxFrame(m))
    transport.attach({
      onOpen: () => send({ type: 'hello', version: PROTOCOL_VERSION, peerId: name, role: 'client', token: '' }),
      onMessage: (frame) => {
        const m = decodeMuxFrame(frame)
        if (m.type === 'hello') {
          // Only after the relay accepted our hello: anything earlier breaks the handshake.
          send({ type: 'subscribe', doc })
          send({ type: 'update', doc, update })
        } else if (m.type === 'saved' && m.doc === doc) {
          this.acknowledged = true
          transport.close(1000, 'ghost done')
        }
      },
      onClose: () => {
        this.closed = true
      },
    })
  }

  close(): void {
    this.transport.close(1000, 'ghost done')
  }
}
