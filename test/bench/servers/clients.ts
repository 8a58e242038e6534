import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import WebSocket from 'ws'
import type { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

/** The stock clients the benchmark drives servers with. */
export type ClientName = 'converge' | 'y-websocket' | 'hocuspocus-provider' | 'raw-ws'

/** One document of one client, as the scenarios see it. */
export interface BenchClient {
  readonly doc: Y.Doc
  /** The client's presence (y-protocols Awareness), for the stock clients that have one. */
  readonly awareness?: Awareness
  /** Resolves once the client reports its first sync with the server. */
  synced(): Promise<void>
  close(): Promise<void>
}

export interface ClientKind {
  name: ClientName
  /** How the client is shown in tables. */
  label: string
  /** One connection for one document. Resolves once the doc exists and dialing started. */
  open(url: string, docName: string, seed?: Uint8Array): Promise<BenchClient>
  /**
   * Many documents on one connection, where the client can multiplex (converge.v1,
   * Hocuspocus' shared socket); undefined for y-websocket (one socket per document).
   */
  openMany?(url: string, docNames: string[], seed?: Uint8Array): Promise<BenchClient[]>
}

const once = (emitter: { once(event: string, fn: () => void): unknown }, event: string) =>
  new Promise<void>((resolve) => emitter.once(event, () => resolve()))

/** y-websocket's WebsocketProvider with `ws` (BroadcastChannel off: clients share this process). */
export const yWebsocketClient: ClientKind = {
  name: 'y-websocket',
  label: 'y-websocket',
  async open(url, docName, seed) {
    const doc = new Y.Doc()
    if (seed !== undefined) Y.applyUpdate(doc, seed)
    const provider = new WebsocketProvider(url, docName, doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    })
    const syncedOnce = provider.synced ? Promise.resolve() : once(provider, 'synced')
    return {
      doc,
      awareness: provider.awareness,
      synced: () => syncedOnce,
      async close() {
        provider.destroy()
        doc.destroy()
      },
    }
  },
}

const hocuspocusClient = (doc: Y.Doc, provider: HocuspocusProvider): BenchClient => {
  const syncedOnce = provider.isSynced
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const done = () => {
          provider.off('synced', done)
          resolve()
        }
        provider.on('synced', done)
      })
  return {
    doc,
    awareness: provider.awareness ?? undefined,
    synced: () => syncedOnce,
    async close() {
      provider.destroy()
      doc.destroy()
    },
  }
}

/**
 * Destroys a provider's socket. A `ws` socket closed while still connecting (the provider
 * reconnecting) emits 'error' with no listener, which would end the whole run: it is
 * expected here, so it is swallowed.
 */
const destroySocket = (socket: HocuspocusProviderWebsocket): void => {
  const ws = socket.webSocket as unknown as { on?: (event: string, fn: () => void) => void } | null
  ws?.on?.('error', () => {})
  socket.destroy()
}

/** @hocuspocus/provider's HocuspocusProvider with `ws`. */
export const hocuspocusProviderClient: ClientKind = {
  name: 'hocuspocus-provider',
  label: '@hocuspocus/provider',
  async open(url, docName, seed) {
    const doc = new Y.Doc()
    if (seed !== undefined) Y.applyUpdate(doc, seed)
    // What `new HocuspocusProvider({ url, ... })` does inside, with `ws` as the WebSocket.
    const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket })
    const provider = new HocuspocusProvider({ name: docName, document: doc, websocketProvider: socket })
    provider.attach()
    const client = hocuspocusClient(doc, provider)
    return {
      ...client,
      async close() {
        await client.close()
        destroySocket(socket)
      },
    }
  },
  async openMany(url, docNames, seed) {
    const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket })
    const clients = docNames.map((name) => {
      const doc = new Y.Doc()
      if (seed !== undefined) Y.applyUpdate(doc, seed)
      const provider = new HocuspocusProvider({ name, document: doc, websocketProvider: socket })
      provider.attach()
      return hocuspocusClient(doc, provider)
    })
    let open = clients.length
    return clients.map((c) => ({
      ...c,
      async close() {
        await c.close()
        if (--open === 0) destroySocket(socket)
      },
    }))
  },
}

/** A converge Replica (in-memory store) dialing the relay over converge.v1. */
export const convergeClient: ClientKind = {
  name: 'converge',
  label: 'converge Replica',
  async open(url, docName, seed) {
    const [client] = await openConverge(url, [docName], seed)
    return client as BenchClient
  },
  openMany: (url, docNames, seed) => openConverge(url, docNames, seed),
}

const openConverge = async (url: string, docNames: string[], seed?: Uint8Array): Promise<BenchClient[]> => {
  const replica = new Replica({ store: new MemoryStore() })
  replica.connect(websocket(url))
  let open = docNames.length
  return Promise.all(
    docNames.map(async (name) => {
      const doc = await replica.open(name)
      if (seed !== undefined) Y.applyUpdate(doc, seed)
      return {
        doc,
        synced: () => replica.whenSynced(name),
        async close() {
          await replica.close(name)
          if (--open === 0) await replica.destroy()
        },
      }
    }),
  )
}

/**
 * A bare `ws` socket to /<doc> of the bare-ws floor server (bare-ws-server.ts): sends the
 * seed bytes as one message; synced once the server answered. Its doc stays empty.
 */
export const rawWsClient: ClientKind = {
  name: 'raw-ws',
  label: 'ws',
  async open(url, docName, seed) {
    const socket = new WebSocket(`${url}/${encodeURIComponent(docName)}`)
    // The server sends one message on connection, then one per message received.
    let expected = seed === undefined ? 1 : 2
    const synced = new Promise<void>((resolve, reject) => {
      socket.on('message', () => {
        if (--expected === 0) resolve()
      })
      socket.once('error', reject)
    })
    socket.once('open', () => {
      if (seed !== undefined) socket.send(seed)
    })
    const doc = new Y.Doc()
    return {
      doc,
      synced: () => synced,
      async close() {
        socket.close()
        doc.destroy()
      },
    }
  },
}

export const clientKinds: Record<ClientName, ClientKind> = {
  converge: convergeClient,
  'y-websocket': yWebsocketClient,
  'hocuspocus-provider': hocuspocusProviderClient,
  'raw-ws': rawWsClient,
}
