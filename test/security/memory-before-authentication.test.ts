import { type Socket, connect as tcpConnect } from 'node:net'
import { CloseCode, MUX_PROTOCOL, Replica } from '@converge/core'
import type { Relay } from '@converge/relay'
import { websocket } from '@converge/websocket'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../helpers/wait.js'
import { after, connect, refusal, SECRET, startRelay, stockClient, unauthorizedAtOnce } from './harness.js'

// Item 8: memory and sockets an unauthenticated client can hold.

/** A masked binary frame header that announces `length` bytes of payload (RFC 6455 §5.2). */
const frameHeader = (length: number) => {
  const header = Buffer.alloc(14)
  header[0] = 0x82
  header[1] = 0x80 | 127
  header.writeBigUInt64BE(BigInt(length), 2)
  header.writeUInt32BE(0x01020304, 10)
  return header
}

/** A raw TCP socket to the relay, closed after the test. */
const raw = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket))
    socket.on('error', reject)
    // Read what the relay answers (a 408), so its close is seen.
    socket.resume()
    after(() => socket.destroy())
  })

const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()))

describe('memory before authentication', () => {
  it('an unauthenticated converge.v1 socket announcing a 100 MiB frame is closed with 1009 before sending its payload', async () => {
    const relay = await startRelay({ authSecret: SECRET, maxPreAuthBytes: 64 * 1024 })
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(relay.url, [MUX_PROTOCOL])
      ws.on('open', () => {
        // Only the header and 1 KiB: a relay that buffered the frame would wait for the rest forever.
        const socket = (ws as unknown as { _socket: Socket })._socket
        socket.write(Buffer.concat([frameHeader(100 * 1024 * 1024), Buffer.alloc(1024)]))
      })
      ws.on('close', (c) => resolve(c))
      ws.on('error', () => undefined)
    })
    expect(code).toBe(CloseCode.messageTooBig)
  })

  it('after the hello is accepted the socket takes frames up to maxMessageBytes', async () => {
    const relay = await startRelay({ maxPreAuthBytes: 1024, maxMessageBytes: 4 * 1024 * 1024 })
    const replica = new Replica()
    after(() => replica.destroy())
    const peer = replica.connect(websocket(relay.url))
    const doc = await replica.open('big')
    await waitFor(() => peer.status === 'open', { what: 'the hello to be accepted' })
    doc.getText('t').insert(0, 'x'.repeat(512 * 1024))
    await replica.whenSaved('big', { timeout: 10_000 })
    expect(peer.status).toBe('open')
  })

  it('a y-websocket client of a relay with auth is refused at once after the upgrade (4401): not one frame is read or sent', async () => {
    const relay = await startRelay({ authSecret: SECRET })
    expect(refusal(await connect(`${relay.url}/doc`))).toEqual(unauthorizedAtOnce)
    expect(refusal(await connect(`${relay.url}/doc?token=forged`))).toEqual(unauthorizedAtOnce)
  })

  it('a y-websocket socket that never sends anything is closed with 4508; a stock client is not', async () => {
    const relay = await startRelay({ firstMessageTimeout: 300 })
    const { provider } = stockClient(relay.url, 'alive')
    await waitFor(() => provider.synced, { what: 'the stock client to sync' })
    const silent = await connect(`${relay.url}/silent`, { waitClose: true })
    expect(silent.close).toBe(CloseCode.heartbeatTimeout)
    expect(provider.wsconnected).toBe(true)
  })
})

describe('per-address caps', () => {
  it('connections from one address beyond maxConnectionsPerIp are dropped and counted', async () => {
    const relay = await startRelay({ maxConnectionsPerIp: 3, perIpExempt: [] })
    const held = await Promise.all([1, 2, 3].map(() => holdOpen(`${relay.url}/d`)))
    expect((await connect(`${relay.url}/d`)).status).toBe(0)
    expect(await capped(relay, 'connections')).toBe(1)
    for (const ws of held) ws.close()
    await waitFor(async () => (await connect(`${relay.url}/d`)).status === 101, { what: 'a slot to free up' })
  })

  it('slowloris: sockets trickling headers beyond maxHandshakesPerIp are dropped; headersTimeout ends the rest', async () => {
    const relay = await startRelay({ maxHandshakesPerIp: 4, headersTimeout: 1000, perIpExempt: [] })
    const slow = await Promise.all([1, 2, 3, 4].map(() => raw(relay.port)))
    for (const s of slow) s.write(`GET /d HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`)
    const fifth = await raw(relay.port)
    await closed(fifth)
    expect(await capped(relay, 'handshakes')).toBe(1)
    const started = Date.now()
    await Promise.all(slow.map(closed))
    expect(Date.now() - started).toBeLessThan(5000)
    expect((await connect(`${relay.url}/d`)).status).toBe(101)
  })

  it('open connections are not handshakes: more y-websocket and converge.v1 clients than maxHandshakesPerIp stay connected from one address', async () => {
    const relay = await startRelay({ maxHandshakesPerIp: 2, perIpExempt: [] })
    // Stock providers, which sync at once (a y-websocket peer exists from its first message).
    const stock = [0, 1, 2, 3, 4].map((i) => stockClient(relay.url, `d${i}`).provider)
    await waitFor(() => stock.every((p) => p.synced), { what: 'every stock client to sync' })
    const replicas = []
    for (let i = 0; i < 3; i++) {
      const replica = new Replica()
      after(() => replica.destroy())
      const peer = replica.connect(websocket(relay.url))
      await waitFor(() => peer.status === 'open', { what: `converge.v1 client ${i} to open` })
      replicas.push(peer)
    }
    expect(stock.every((p) => p.wsconnected)).toBe(true)
    expect(replicas.every((p) => p.status === 'open')).toBe(true)
    expect(await capped(relay, 'handshakes')).toBe(0)
  })
})

/** A y-websocket connection held open until closed by the test. */
const holdOpen = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('open', () => resolve(ws))
    ws.on('error', reject)
    after(() => ws.terminate())
  })

/** converge_connections_capped_total, read in process (an HTTP fetch would count against the caps). */
const capped = async (relay: Relay, cap: string) =>
  (await relay.metrics.edge.capped.get()).values.find((v) => v.labels.cap === cap)?.value ?? 0
