/**
 * A y-websocket socket to a relay on a MemoryNetwork, as a stock client opens one on
 * document `doc`: it applies every update and sync step 2 it gets to its own Y.Doc (origin
 * 'remote'), counts the parts of a streamed answer (the updates before its step 2), and
 * keeps what its document wrote of its own (a stock client would send that back).
 */
import type { MemoryNetwork } from '@converge/core'
import * as Y from 'yjs'
import type { Message, YMessage } from '../../packages/core/src/messages.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from '../../packages/core/src/y-websocket-codec.js'
import { waitFor } from './wait.js'

export interface YSocketOptions {
  /** The relay's address on the network (default 'relay'). */
  address?: string
  /** The document (default 'doc'). */
  doc?: string
  /** Called at each part, after it is applied. */
  onPart?: () => void
  /** Called at each sync step 2, after it is applied. */
  onStep2?: (doc: Y.Doc) => void
}

export const ySocket = (net: MemoryNetwork, name: string, options: YSocketOptions = {}) => {
  const name_ = options.doc ?? 'doc'
  const doc = new Y.Doc()
  const local: Uint8Array[] = []
  doc.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') local.push(u)
  })
  let parts = 0
  let step2 = false
  let open = false
  const t = net.connector(options.address ?? 'relay', name)()
  t.attach({
    onOpen: () => {
      open = true
    },
    onMessage: (frame) => {
      const m: Message = decodeYWebsocketFrame(frame, name_)
      if (m.type !== 'update' && m.type !== 'sync-step2') return
      Y.applyUpdate(doc, m.update, 'remote')
      if (m.type === 'sync-step2') {
        step2 = true
        options.onStep2?.(doc)
      } else if (!step2) {
        parts++
        options.onPart?.()
      }
    },
    onClose: () => undefined,
  })
  const send = (m: YMessage) => t.send(encodeYWebsocketFrame(m))
  return {
    doc,
    /** Updates its document made other than by applying what the relay sent. */
    local,
    parts: () => parts,
    step2: () => step2,
    opened: () => waitFor(() => open, { what: `${name} open` }),
    send,
    /** Sends a sync step 1 with its document's state vector, once open. */
    join: async () => {
      await waitFor(() => open, { what: `${name} open` })
      send({ type: 'sync-step1', doc: name_, stateVector: Y.encodeStateVector(doc) })
    },
    close: () => t.close(),
  }
}
