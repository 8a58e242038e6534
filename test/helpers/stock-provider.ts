import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

type ProviderOptions = NonNullable<ConstructorParameters<typeof WebsocketProvider>[3]>

/**
 * A stock y-websocket 3.x client in Node (`ws` as its WebSocket; `options` otherwise as
 * the provider's own defaults), destroyed with its document by `cleanup` after the test.
 */
export const stockProvider = (
  cleanup: Array<() => Promise<void> | void>,
  url: string,
  room: string,
  options: ProviderOptions = {},
): { doc: Y.Doc; provider: WebsocketProvider } => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket as never, ...options })
  cleanup.push(() => {
    provider.destroy()
    doc.destroy()
  })
  return { doc, provider }
}
