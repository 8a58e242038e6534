import { CloseCode, MemoryStore, Replica } from '@converge/core'
import {
  type ChangePayload,
  type DisconnectPayload,
  type DocumentSettledPayload,
  type Extension,
  HookError,
  type Relay,
  type RelayOptions,
  signToken,
} from '@converge/relay'
import { websocket } from '@converge/websocket'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { after, startRelay as startMemoryRelay, upgradeOutcome } from '../helpers/in-process-relay.js'
import { nextEvent, waitFor } from '../helpers/wait.js'

const startRelay = (options: RelayOptions = {}) =>
  startMemoryRelay({ store: new MemoryStore({ changeLog: true }), ...options })

/** A stock y-websocket client; `cookie` is sent with its upgrade request. */
const stockClient = (url: string, room: string, cookie?: string) => {
  const doc = new Y.Doc()
  const headers = cookie === undefined ? {} : { cookie }
  class CookieWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers })
    }
  }
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: CookieWebSocket as never,
    maxBackoffTime: 300,
  })
  after(() => {
    provider.destroy()
    doc.destroy()
  })
  return { doc, provider }
}

const convergeClient = (relay: Relay, token = '') => {
  const replica = new Replica()
  const peer = replica.connect(websocket(relay.url), { token, backoff: { initialDelay: 20, maxDelay: 100 } })
  after(() => replica.destroy())
  return { replica, peer }
}

const metric = async (relay: Relay, line: string): Promise<number> => {
  const text = await relay.metrics.registry.metrics()
  const found = text.split('\n').find((l) => l.startsWith(line))
  return found === undefined ? 0 : Number(found.split(' ').pop())
}

/** An onAuthenticate that admits a session cookie `sid=good-<user>`, read-only for `sid=ro-<user>`. */
const cookieAuth: Extension = {
  name: 'cookie-auth',
  onAuthenticate({ cookies }) {
    const sid = cookies.sid ?? ''
    if (sid.startsWith('good-')) return { user: sid.slice(5), docs: ['**'], mode: 'write' }
    if (sid.startsWith('ro-')) return { user: sid.slice(3), mode: 'read' }
    throw new HookError('unauthorized', 'no session')
  },
}

describe('extension hooks', () => {
  it('onAuthenticate admits a stock y-websocket client by its cookie, refuses it without (4401), and its user reaches onChange and onDisconnect', async () => {
    const changes: ChangePayload[] = []
    const disconnects: DisconnectPayload[] = []
    const relay = await startRelay({
      extensions: [
        cookieAuth,
        { onChange: (p) => void changes.push(p), onDisconnect: (p) => void disconnects.push(p) },
      ],
    })
    expect(await upgradeOutcome(`${relay.url}/notes`)).toBe(CloseCode.unauthorized)
    expect(await upgradeOutcome(`${relay.url}/notes`, { cookie: 'sid=bad' })).toBe(CloseCode.unauthorized)
    const { doc, provider } = stockClient(relay.url, 'notes', 'theme=dark; sid=good-ada')
    await nextEvent(provider, 'sync')
    doc.getText('t').insert(0, 'hello')
    await waitFor(() => changes.length > 0, { what: 'onChange' })
    expect(changes[0]?.doc).toBe('notes')
    expect(changes[0]?.context?.user).toBe('ada')
    // Durable when onChange runs: the store has it.
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await relay.store.load('notes')) as Uint8Array)
    expect(stored.getText('t').toString()).toBe('hello')
    provider.destroy()
    await waitFor(() => disconnects.length > 0, { what: 'onDisconnect' })
    expect(disconnects[0]?.context?.user).toBe('ada')
  })

  it('onAuthenticate decides converge.v1 connections at hello: refused with 4401, read-only mode never writes', async () => {
    const changes: ChangePayload[] = []
    const relay = await startRelay({
      extensions: [
        {
          onAuthenticate: ({ token, framing }) => {
            expect(framing).toBe('converge.v1')
            if (token === 'writer') return { user: 'w' }
            if (token === 'reader') return { user: 'r', mode: 'read' }
            throw new HookError('unauthorized', 'unknown token')
          },
          onChange: (p) => void changes.push(p),
        },
      ],
    })
    const refused = convergeClient(relay, 'nope')
    await waitFor(() => refused.peer.lastClose?.code === CloseCode.unauthorized, { what: '4401' })
    const reader = convergeClient(relay, 'reader')
    const rdoc = await reader.replica.open('d')
    const writer = convergeClient(relay, 'writer')
    const wdoc = await writer.replica.open('d')
    await writer.replica.whenSynced('d', { timeout: 5000 })
    await reader.replica.whenSynced('d', { timeout: 5000 })
    rdoc.getText('t').insert(0, 'reader')
    wdoc.getText('t').insert(0, 'writer')
    await writer.replica.whenSaved('d', { timeout: 5000 })
    await waitFor(() => rdoc.getText('t').toString().includes('writer'), { what: 'the reader to see the write' })
    expect(changes.map((c) => c.context?.user)).toEqual(['w'])
    expect(wdoc.getText('t').toString()).toBe('writer')
  })

  it('a token and onAuthenticate complement each other: a valid token admits, the hook may admit without one', async () => {
    const secret = 'a test secret of at least 32 bytes, no more'
    const relay = await startRelay({
      authSecret: secret,
      extensions: [{ onAuthenticate: ({ cookies }) => (cookies.sid === 'ok' ? { user: 'cookie-user' } : undefined) }],
    })
    const token = await signToken(secret, { docs: ['**'], mode: 'write', sub: 'token-user' })
    expect(await upgradeOutcome(`${relay.url}/x?token=${token}`)).toBe(101)
    expect(await upgradeOutcome(`${relay.url}/x`, { cookie: 'sid=ok' })).toBe(101)
    expect(await upgradeOutcome(`${relay.url}/x`)).toBe(CloseCode.unauthorized)
  })

  it('a vetoing onUpgrade refuses with its status; a hook that throws is counted and the relay keeps serving', async () => {
    const relay = await startRelay({
      extensions: [
        {
          onUpgrade: ({ request, ip }) => {
            expect(ip).toBe('127.0.0.1')
            if (request.headers['x-block'] === 'veto') throw new HookError('forbidden', 'blocked')
            if (request.headers['x-block'] === 'bug') throw new Error('a bug in the hook')
          },
          onChange: () => {
            throw new Error('onChange bug')
          },
        },
      ],
    })
    expect(await upgradeOutcome(`${relay.url}/a`, { 'x-block': 'veto' })).toBe(403)
    expect(await upgradeOutcome(`${relay.url}/a`, { 'x-block': 'bug' })).toBe(503)
    expect(await metric(relay, 'converge_hook_errors_total{hook="onUpgrade"}')).toBe(1)
    expect(await metric(relay, 'converge_hook_vetoes_total{hook="onUpgrade"}')).toBe(1)
    const { doc, provider } = stockClient(relay.url, 'a')
    await nextEvent(provider, 'sync')
    doc.getText('t').insert(0, 'x')
    await waitFor(async () => (await metric(relay, 'converge_hook_errors_total{hook="onChange"}')) === 1, {
      what: 'the onChange error to be counted',
    })
    const again = stockClient(relay.url, 'a')
    await nextEvent(again.provider, 'sync')
    await waitFor(() => again.doc.getText('t').toString() === 'x', { what: 'the relay to keep serving' })
  })

  it('onLoadDocument seeds a new document before the first client syncs it, and never an existing one', async () => {
    let seeded = 0
    const relay = await startRelay({
      extensions: [
        {
          onLoadDocument: ({ doc, seed }) => {
            seeded++
            seed.getText('t').insert(0, `welcome to ${doc}`)
          },
        },
      ],
    })
    const { doc, provider } = stockClient(relay.url, 'fresh')
    await nextEvent(provider, 'sync')
    expect(doc.getText('t').toString()).toBe('welcome to fresh')
    expect(seeded).toBe(1)
    const second = stockClient(relay.url, 'fresh')
    await nextEvent(second.provider, 'sync')
    expect(second.doc.getText('t').toString()).toBe('welcome to fresh')
    expect(seeded).toBe(1)
  })

  it('a vetoing onLoadDocument refuses the document: its y-websocket client is closed with 4403 and never synced', async () => {
    const relay = await startRelay({
      extensions: [
        {
          onLoadDocument: ({ doc }) => {
            if (doc.startsWith('secret/')) throw new HookError('forbidden', 'not here')
          },
        },
      ],
    })
    const { provider } = stockClient(relay.url, 'secret/x')
    const closed = await nextEvent<{ code: number }>(provider, 'connection-close')
    expect(closed?.code).toBe(CloseCode.forbidden)
    expect(provider.synced).toBe(false)
    expect(await relay.store.list()).toEqual([])
  })

  it('two relays of a mesh that seed the same new document at once end with one copy of the seed', async () => {
    const seeded: string[] = []
    const seedHook = (relay: string): Extension => ({
      onLoadDocument: ({ seed }) => {
        seeded.push(relay)
        seed.getText('t').insert(0, 'SEED')
      },
    })
    const a = await startRelay({ extensions: [seedHook('a')], allowUnauthenticatedRelays: true })
    const b = await startRelay({ extensions: [seedHook('b')] })
    const [ca, cb] = [stockClient(a.url, 'shared'), stockClient(b.url, 'shared')]
    await Promise.all([nextEvent(ca.provider, 'sync'), nextEvent(cb.provider, 'sync')])
    expect(seeded.sort()).toEqual(['a', 'b'])
    ca.doc.getText('t').insert(4, ' a')
    cb.doc.getText('t').insert(0, 'b ')
    // Now join the two relays, as a mesh peer would.
    const link = b.replica.connect(websocket(a.url))
    after(() => link.close())
    const text = (d: Y.Doc) => d.getText('t').toString()
    await waitFor(() => text(ca.doc) === text(cb.doc) && text(ca.doc).length === 8, {
      what: 'both clients to converge',
    })
    expect(text(ca.doc)).toBe('b SEED a')
  })

  it('onDocumentSettled runs once for a burst of changes, with the merged state and a JSON view', async () => {
    const settles: DocumentSettledPayload[] = []
    const relay = await startRelay({
      settleDelay: 100,
      settleMaxWait: 5_000,
      extensions: [cookieAuth, { onDocumentSettled: (p) => void settles.push(p) }],
    })
    const { doc, provider } = stockClient(relay.url, 'burst', 'sid=good-bo')
    await nextEvent(provider, 'sync')
    for (let i = 0; i < 20; i++) doc.getText('t').insert(i, 'x')
    doc.getMap('m').set('k', 1)
    await waitFor(() => settles.length > 0, { what: 'a settle' })
    await new Promise((r) => setTimeout(r, 300))
    expect(settles).toHaveLength(1)
    expect(settles[0]?.changes).toBe(21)
    expect(settles[0]?.users).toEqual(['bo'])
    expect(settles[0]?.json).toEqual({ t: 'x'.repeat(20), m: { k: 1 } })
    const merged = new Y.Doc()
    Y.applyUpdate(merged, settles[0]?.state as Uint8Array)
    expect(Y.encodeStateVector(merged)).toEqual(Y.encodeStateVector(doc))
  })

  it('onAwareness, onUnloadDocument, onListen and onDestroy run at their moments', async () => {
    const events: string[] = []
    const relay = await startRelay({
      unloadDelay: 50,
      extensions: [
        {
          onListen: ({ port }) => void events.push(`listen ${port > 0}`),
          onAwareness: ({ doc, added, states }) => {
            if (added.length > 0) events.push(`awareness ${doc} ${states.size}`)
          },
          onUnloadDocument: ({ doc }) => void events.push(`unload ${doc}`),
          onDestroy: () => void events.push('destroy'),
        },
      ],
    })
    const { provider } = stockClient(relay.url, 'room')
    await nextEvent(provider, 'sync')
    provider.awareness.setLocalStateField('user', 'ada')
    await waitFor(() => events.includes('awareness room 1'), { what: 'onAwareness' })
    provider.destroy()
    await waitFor(() => events.includes('unload room'), { what: 'onUnloadDocument' })
    await relay.stop()
    expect(events).toEqual(['listen true', 'awareness room 1', 'unload room', 'destroy'])
  })
  it('onStateless gets a client message with its context, replies to it and broadcasts to the document (converge.v1)', async () => {
    const relay = await startRelay({
      extensions: [
        { onAuthenticate: ({ token }) => ({ user: token }) },
        {
          onStateless: ({ payload, context, reply, broadcast }) => {
            reply(`pong ${payload} ${context?.user}`)
            broadcast(`all: ${payload}`)
          },
        },
      ],
    })
    const a = convergeClient(relay, 'ada')
    const b = convergeClient(relay, 'bo')
    await a.replica.open('chat')
    await b.replica.open('chat')
    await a.replica.whenSynced('chat', { timeout: 5000 })
    await b.replica.whenSynced('chat', { timeout: 5000 })
    const stock = stockClient(relay.url, 'chat')
    await nextEvent(stock.provider, 'sync')
    const got = { a: [] as string[], b: [] as string[] }
    a.replica.on('stateless', (doc, payload) => got.a.push(`${doc} ${payload}`))
    b.replica.on('stateless', (doc, payload) => got.b.push(`${doc} ${payload}`))
    a.replica.sendStateless('chat', 'hi')
    await waitFor(() => got.a.length === 2 && got.b.length === 1, { what: 'the reply and the broadcast' })
    expect(got.a.sort()).toEqual(['chat all: hi', 'chat pong hi ada'])
    expect(got.b).toEqual(['chat all: hi'])
    // The stock client has no stateless message: it is sent nothing and stays connected.
    expect(stock.provider.wsconnected).toBe(true)
  })
})

describe('server-side documents', () => {
  it('relay.open edits are durable before clients see them, reach clients, and see client edits', async () => {
    const changes: ChangePayload[] = []
    const relay = await startRelay({ extensions: [{ onChange: (p) => void changes.push(p) }] })
    const { doc, provider } = stockClient(relay.url, 'srv')
    await nextEvent(provider, 'sync')
    const handle = await relay.open('srv', { user: 'importer' })
    handle.doc.getText('t').insert(0, 'from server')
    await handle.whenSaved()
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await relay.store.load('srv')) as Uint8Array)
    expect(stored.getText('t').toString()).toBe('from server')
    expect(changes.at(-1)?.context?.user).toBe('importer')
    await waitFor(() => doc.getText('t').toString() === 'from server', { what: 'the client to see it' })
    doc.getText('t').insert(0, 'client: ')
    await waitFor(() => handle.doc.getText('t').toString() === 'client: from server', { what: 'the handle to see it' })
    await handle.close()
    const feed = []
    for await (const c of relay.changes({ follow: false })) feed.push(c)
    expect(feed.map((c) => c.who)).toEqual(['importer', undefined])
  })
})
