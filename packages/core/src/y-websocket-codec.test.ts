import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as syncProtocol from 'y-protocols/sync'
import { stockSyncFrame } from '../../../test/helpers/stock-frames.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from './y-websocket-codec.js'

describe('y-websocket framing', () => {
  it('frames of small and large payloads (a large one written into a buffer of its size) are what y-websocket writes, and decode back', () => {
    for (const size of [0, 10, 64 * 1024 - 1, 64 * 1024, 300_000]) {
      const payload = new Uint8Array(size).map((_, i) => i % 251)
      const step2 = encodeYWebsocketFrame({ type: 'sync-step2', doc: 'd', update: payload })
      expect(step2).toEqual(
        stockSyncFrame((e) => {
          encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep2)
          encoding.writeVarUint8Array(e, payload)
        }),
      )
      const update = encodeYWebsocketFrame({ type: 'update', doc: 'd', update: payload })
      expect(update).toEqual(stockSyncFrame((e) => syncProtocol.writeUpdate(e, payload)))
      expect(decodeYWebsocketFrame(update, 'd')).toEqual({ type: 'update', doc: 'd', update: payload })
    }
  })
})
