import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { waitFor } from '../../../test/bench/lib/wait.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { encodeMuxFrame } from './mux-codec.js'
import { Replica } from './replica.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { Transport, TransportHandler, TransportState } from './transport.js'

/** What a relay's observer saw: each protocol error counted, each close of an opened peer. */
const watched = () => {
  const counted: string[] = []
  const closed: number[] = []
  const observer: ReplicaObserver = {
    protocolError: (_peer, code, closeCode) => counted.push(`${code} ${closeCode}`),
    peerClosed: (_peer, _role, code) => closed.push(code),
  }
  return { counted, closed, observer }
}

/** A transport that reports its close a turn after close() (as the Transport contract allows). */
class LateCloseTransport implements Transport {
  state: TransportState = 'open'
  handler: TransportHandler | undefined
  closes: number[] = []
  attach(handler: TransportHandler): void {
    this.handler = handler
    handler.onOpen()
  }
  send(): void {}
  close(code = 1000, reason = ''): void {
    this.closes.push(code)
    setTimeout(() => {
      if (this.state === 'closed') return
      this.state = 'closed'
      this.handler?.onClose(code, reason)
    }, 0)
  }
}

describe('a connection closed for an error counts once', () => {
  it('several malformed frames back to back, before the close lands: one protocol error, one close', async () => {
    const { counted, closed, observer } = watched()
    const relay = new Replica({ role: 'relay', peerId: 'R', observer })
    const transport = new LateCloseTransport()
    relay.accept(transport, { framing: { yWebsocketDoc: 'doc' } })
    const handler = transport.handler as TransportHandler
    // An unknown message type, a truncated sync message, garbage: all in one turn.
    for (const frame of [
      [7, 1, 2],
      [0, 2, 200],
      [255, 255, 255],
      [7, 1, 2],
      [0, 0, 5, 255],
    ]) {
      handler.onMessage(new Uint8Array(frame))
    }
    await waitFor(() => transport.state === 'closed', { what: 'the close to land' })
    expect(counted).toEqual(['CONVERGE_MALFORMED_MESSAGE 4400'])
    expect(transport.closes).toEqual([4400])
    expect(closed).toEqual([4400])
    await relay.destroy()
  })

  for (const coldDocs of [true, false]) {
    it(`the failed writes of one batch of several updates (coldDocs ${coldDocs}): one error counted, one close`, async () => {
      const net = new MemoryNetwork()
      const { counted, closed, observer } = watched()
      const store = new MemoryStore()
      const relay = new Replica({ role: 'relay', peerId: 'R', store, coldDocs, observer })
      net.listen('R', (t) => relay.accept(t))
      const client = new Replica({ peerId: 'C' })
      let transport: Transport | undefined
      const connector = net.connector('R', 'C')
      const link = client.connect(() => (transport = connector()), { backoff: { initialDelay: 60_000 } })
      client.open('doc')
      await client.whenSynced('doc', { timeout: 5000 })
      store.failNextFlush()
      const doc = new Y.Doc()
      for (let i = 0; i < 5; i++) {
        const before = Y.encodeStateVector(doc)
        doc.getText('t').insert(0, `${i}`)
        transport?.send(encodeMuxFrame({ type: 'update', doc: 'doc', update: Y.encodeStateAsUpdate(doc, before) }))
      }
      await waitFor(() => closed.length > 0 && link.lastClose !== undefined, { what: 'the relay to close the link' })
      // The writes of one batch fail together, a turn before the close lands.
      await new Promise((resolve) => setTimeout(resolve, 0))
      expect(counted).toEqual(['CONVERGE_STORE_WRITE_FAILED 4500'])
      expect(closed).toEqual([4500])
      await client.destroy()
      await relay.destroy()
    })
  }
})
