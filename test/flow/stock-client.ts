import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { nextEvent } from '../helpers/wait.js'

/** A stock y-websocket 3.x client (`ws` as its WebSocket, BroadcastChannel off), with what happened to its socket. */
export interface StockClient {
  doc: Y.Doc
  provider: WebsocketProvider
  /** Close codes the server sent, in order. */
  closes: number[]
  /** Sockets it opened (1 + reconnects). */
  connects: number
  /** The provider gave up (a close code it reads as permanent). */
  stopped: boolean
  destroy(): void
}

export const stockClient = (
  url: string,
  room: string,
  options: { maxBackoffTime?: number; params?: Record<string, string> } = {},
): StockClient => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
    maxBackoffTime: options.maxBackoffTime ?? 200,
    params: options.params ?? {},
  })
  const client: StockClient = {
    doc,
    provider,
    closes: [],
    connects: 0,
    stopped: false,
    destroy() {
      provider.destroy()
      doc.destroy()
    },
  }
  provider.on('status', ({ status }: { status: string }) => {
    if (status === 'connected') client.connects++
  })
  provider.on('connection-close', (event: { code: number } | null) => {
    if (event != null) client.closes.push(event.code)
  })
  provider.on('closed', () => {
    client.stopped = true
  })
  return client
}

/** Resolves once the provider synced with the server. */
export const synced = (provider: WebsocketProvider, timeout = 10_000): Promise<void> =>
  provider.synced ? Promise.resolve() : nextEvent(provider, 'sync', timeout).then(() => undefined)
