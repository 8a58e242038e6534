// A stock y-websocket WebsocketProvider, unchanged, with the browser's own WebSocket: it
// sends whatever cookies the browser holds for the relay's host with its upgrade.
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

export interface StockClient {
  synced: boolean
  /** Connection attempts that ended (refused upgrades included). */
  closes: number
  /** The close code of the last attempt that ended. */
  lastCode: number | undefined
  text(): string
  insert(text: string): void
}

declare global {
  interface Window {
    stock: StockClient
  }
}

const params = new URLSearchParams(location.search)
const doc = new Y.Doc()
const provider = new WebsocketProvider(params.get('relay') ?? '', params.get('doc') ?? 'notes', doc, {
  maxBackoffTime: 300,
})
const stock: StockClient = {
  synced: false,
  closes: 0,
  lastCode: undefined,
  text: () => doc.getText('body').toString(),
  insert: (text) => doc.getText('body').insert(0, text),
}
provider.on('sync', (synced: boolean) => {
  stock.synced = synced
})
provider.on('connection-close', (event: CloseEvent | null) => {
  stock.closes++
  stock.lastCode = event?.code
})
window.stock = stock
