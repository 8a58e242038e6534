import type { AddressInfo } from 'node:net'
import { CloseCode, isFatalCloseCode, MemoryStore, Replica } from '@converge/core'
import { Relay, signToken } from '@converge/relay'
import { websocket } from '@converge/websocket'
import { describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import * as Y from 'yjs'
import { after, startRelay } from '../helpers/in-process-relay.js'
import { waitFor } from '../helpers/wait.js'
import { type StockClient, stockClient, synced } from './stock-client.js'

/**
 * The table in packages/core/PROTOCOL.md ("Close codes"): every code converge sends, and
 * whether a client should stop (permanent) or reconnect. Stock y-websocket 3.x, the
 * converge replica and this table must agree.
 */
const TABLE: Array<{ code: number; permanent: boolean }> = [
  { code: CloseCode.goingAway, permanent: false },
  { code: CloseCode.invalidPayload, permanent: false },
  { code: CloseCode.messageTooBig, permanent: false },
  { code: CloseCode.tryAgainLater, permanent: false },
  { code: CloseCode.malformed, permanent: true },
  { code: CloseCode.unauthorized, permanent: true },
  { code: CloseCode.forbidden, permanent: true },
  { code: CloseCode.unsupportedVersion, permanent: true },
  { code: CloseCode.storeFailure, permanent: false },
  { code: CloseCode.heartbeatTimeout, permanent: false },
  { code: CloseCode.limitExceeded, permanent: false },
  { code: CloseCode.rateLimited, permanent: false },
]

/** A WebSocket server on 127.0.0.1 that closes every connection with `code` at once, counting them. */
const closingServer = async (code: number) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const server = { connections: 0, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` }
  wss.on('connection', (ws) => {
    server.connections++
    ws.close(code, 'test')
  })
  after(() => new Promise<void>((resolve) => wss.close(() => resolve())))
  return server
}

const stock = (url: string, room: string): StockClient => {
  const client = stockClient(url, room, { maxBackoffTime: 100 })
  after(() => client.destroy())
  return client
}

/** The stock client gave up on `code`: it emitted `closed` and will not dial again. */
const expectStopped = async (client: StockClient, code: number) => {
  await waitFor(() => client.stopped, { what: `the stock client to stop after ${code}` })
  expect(client.closes.at(-1)).toBe(code)
  expect(client.provider.shouldConnect).toBe(false)
}

describe('every close code reaches a stock y-websocket client and a converge replica as the table says', () => {
  it('the table matches isFatalCloseCode (the converge replica) and y-websocket 3.x (4400-4499 permanent)', () => {
    for (const { code, permanent } of TABLE) {
      expect(isFatalCloseCode(code), String(code)).toBe(permanent)
      expect(code >= 4400 && code < 4500, String(code)).toBe(permanent)
    }
  })

  for (const { code, permanent } of TABLE) {
    it(`${code}: a stock y-websocket client ${permanent ? 'stops' : 'reconnects'}`, async () => {
      const server = await closingServer(code)
      const client = stock(server.url, 'doc')
      if (permanent) {
        await expectStopped(client, code)
        expect(server.connections).toBe(1)
      } else {
        await waitFor(() => server.connections >= 3, { what: `the stock client to reconnect after ${code}` })
        expect(client.stopped).toBe(false)
        expect(client.closes.slice(0, 2)).toEqual([code, code])
      }
    })

    it(`${code}: a converge replica ${permanent ? 'stops' : 'reconnects'}`, async () => {
      const server = await closingServer(code)
      const replica = new Replica()
      after(() => replica.destroy())
      const peer = replica.connect(websocket(server.url), { backoff: { initialDelay: 10, maxDelay: 50 } })
      if (permanent) {
        await waitFor(() => peer.status === 'closed', { what: `the replica to stop after ${code}` })
        expect(peer.lastClose?.code).toBe(code)
        expect(server.connections).toBe(1)
      } else {
        await waitFor(() => server.connections >= 3, { what: `the replica to reconnect after ${code}` })
        expect(peer.status).not.toBe('closed')
      }
    })
  }
})

describe('the relay closes stock y-websocket clients with the code of the table', () => {
  it('4400 for bytes that do not decode: the stock client stops', async () => {
    const relay = await startRelay()
    const client = stock(relay.url, 'malformed')
    await synced(client.provider)
    client.provider.ws?.send(new Uint8Array([0, 9, 9]))
    await expectStopped(client, CloseCode.malformed)
  })

  it('4401 without a valid token and 4403 for a document the token does not grant: the stock client stops', async () => {
    const secret = 'close-codes-secret-0123456789abcdef'
    const relay = await startRelay({ authSecret: secret })
    const anonymous = stock(relay.url, 'team-a/notes')
    await expectStopped(anonymous, CloseCode.unauthorized)
    const token = await signToken(secret, { docs: ['team-a/*'], mode: 'write' })
    // The token travels as y-websocket's `params` (?token=).
    const outside = stockClient(relay.url, 'team-b/notes', { maxBackoffTime: 100, params: { token } })
    after(() => outside.destroy())
    await expectStopped(outside, CloseCode.forbidden)
    // Refused as the link opens: nothing of the document was loaded or sent for it.
    expect(relay.replica.loadedDocs()).not.toContain('team-b/notes')
    expect(outside.provider.synced).toBe(false)
    const granted = stockClient(relay.url, 'team-a/notes', { maxBackoffTime: 100, params: { token } })
    after(() => granted.destroy())
    await synced(granted.provider)
  })

  it('1009 for a frame beyond maxMessageBytes: the stock client reconnects and syncs again', async () => {
    const relay = await startRelay({ maxMessageBytes: 64 * 1024 })
    const client = stock(relay.url, 'big')
    await synced(client.provider)
    client.provider.ws?.send(new Uint8Array(128 * 1024))
    await waitFor(() => client.connects >= 2 && client.provider.synced, { what: 'the stock client to reconnect' })
    expect(client.closes).toEqual([CloseCode.messageTooBig])
  })

  it('4513 for updates with missing dependencies past maxPendingBytes: the stock client reconnects and syncs again', async () => {
    const relay = await startRelay({ maxPendingBytes: 1024 })
    const client = stock(relay.url, 'pending')
    await synced(client.provider)
    // An update whose predecessor (the first insert) never reached the relay.
    const source = new Y.Doc()
    source.getText('text').insert(0, 'x'.repeat(10))
    const before = Y.encodeStateVector(source)
    source.getText('text').insert(10, 'y'.repeat(4096))
    const gap = Y.encodeStateAsUpdate(source, before)
    const frame = new Uint8Array([0, 2, ...varUint(gap.length), ...gap])
    client.provider.ws?.send(frame)
    await waitFor(() => client.closes.length > 0, { what: 'the relay to close the client' })
    expect(client.closes[0]).toBe(CloseCode.limitExceeded)
    await waitFor(() => client.connects >= 2 && client.provider.synced, { what: 'the stock client to reconnect' })
    expect(client.stopped).toBe(false)
  })

  it('4529 for a flood far past the pacing: the stock client reconnects', async () => {
    const relay = await startRelay({ maxMessagesPerSecond: 50, messageBurst: 100 })
    const client = stock(relay.url, 'flood')
    await synced(client.provider)
    // query-awareness frames, sent in one go: they reach the relay in one read.
    for (let i = 0; i < 2000; i++) client.provider.ws?.send(new Uint8Array([3]))
    await waitFor(() => client.closes.length > 0, { what: 'the relay to close the client' })
    expect(client.closes[0]).toBe(CloseCode.rateLimited)
    await waitFor(() => client.connects >= 2, { what: 'the stock client to reconnect' })
    expect(client.stopped).toBe(false)
  })

  it('1001 when the relay shuts down: the stock client reconnects to the relay that comes back on the port', async () => {
    const first = await Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger: false })
    const port = first.port
    const client = stock(first.url, 'restart')
    await synced(client.provider)
    await first.stop()
    await waitFor(() => client.closes.length > 0, { what: 'the relay to close the client' })
    expect(client.closes[0]).toBe(CloseCode.goingAway)
    const second = await startRelay({ port })
    await waitFor(() => client.connects >= 2 && client.provider.synced, { what: 'the stock client to reconnect' })
    expect(second.port).toBe(port)
  })
})

const varUint = (n: number): number[] => {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return out
}
