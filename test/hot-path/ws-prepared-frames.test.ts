import type { AddressInfo } from 'node:net'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it } from 'vitest'
import * as wsModule from 'ws'
import WebSocket, { WebSocketServer } from 'ws'
import { type WebSocketLike, WebSocketTransport } from '../../packages/websocket/src/websocket-transport.js'
import {
  binaryFrame,
  canSendPrepared,
  PREPARED_FRAME_MAX_BYTES,
  sendPrepared,
} from '../../packages/websocket/src/ws-prepared-frames.js'
import { seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void> | void)()
})

const SEED = seedFor('prepared frames', import.meta.url)
const replay = `seed ${SEED}`

const payload = (gen: prng.PRNG, n: number): Uint8Array => {
  const bytes = new Uint8Array(n)
  for (let i = 0; i < n; i++) bytes[i] = prng.uint32(gen, 0, 255)
  return bytes
}

/** ws's frame builder (exported by ws 8, not in its types). */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] }
}

/** The bytes `ws` itself writes for one final binary frame from a server. */
const wsFrame = (data: Uint8Array): Buffer =>
  Buffer.concat(Sender.frame(Buffer.from(data), { fin: true, opcode: 2, mask: false, readOnly: false, rsv1: false }))

/** A ws server, and its side of `count` connected sockets, each with what is written to its TCP socket recorded. */
const connected = async (count: number) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  cleanup.push(() => new Promise<void>((resolve) => wss.close(() => resolve())))
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  const servers: Array<{ ws: WebSocket; written: Buffer[]; chunks: unknown[] }> = []
  const clients: Array<{ ws: WebSocket; received: Uint8Array[] }> = []
  wss.on('connection', (ws) => {
    const written: Buffer[] = []
    const chunks: unknown[] = []
    const tcp = (ws as unknown as { _socket: { write: (...args: unknown[]) => boolean } })._socket
    const write = tcp.write.bind(tcp)
    tcp.write = (chunk: unknown, ...rest: unknown[]) => {
      written.push(Buffer.from(chunk as Uint8Array))
      chunks.push(chunk)
      return write(chunk, ...rest)
    }
    servers.push({ ws, written, chunks })
  })
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url)
    const received: Uint8Array[] = []
    ws.on('message', (data) => received.push(new Uint8Array(data as Buffer)))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    cleanup.push(() => ws.terminate())
    clients.push({ ws, received })
  }
  await waitFor(() => servers.length === count, { what: `${count} server sockets` })
  return { servers, clients }
}

describe('prepared WebSocket frames', () => {
  it('a prepared frame is byte for byte the frame ws builds, at every header size (seeded)', () => {
    const gen = prng.create(SEED)
    for (const n of [0, 1, 125, 126, 127, 1000, 0xffff, 0x10000, 70_000]) {
      const data = payload(gen, n)
      expect(Buffer.from(binaryFrame(data)).equals(wsFrame(data)), `${n} bytes; ${replay}`).toBe(true)
    }
  })

  it('an open ws server socket takes prepared frames (fails if the ws internals it writes to move)', async () => {
    const { servers } = await connected(1)
    expect(canSendPrepared((servers[0] as { ws: WebSocket }).ws as unknown as WebSocketLike)).toBe(true)
  })

  it('a shared frame goes to every socket as the same bytes, and each socket gets the bytes and order ws.send would have written (seeded)', async () => {
    const gen = prng.create(SEED + 1)
    const { servers, clients } = await connected(4)
    // Sockets 0–2 send through the transport with prepared frames, socket 3 with plain ws.send.
    const transports = servers.map(
      ({ ws }, i) =>
        new WebSocketTransport(ws as unknown as WebSocketLike, `s${i}`, i < 3 ? { send: sendPrepared } : {}),
    )
    const sent: Uint8Array[] = []
    for (let k = 0; k < 40; k++) {
      // Mostly small shared frames; some larger than a prepared frame may be; some per socket.
      const n = prng.bool(gen) ? prng.uint32(gen, 0, 300) : prng.uint32(gen, 0, PREPARED_FRAME_MAX_BYTES + 5_000)
      const shared = payload(gen, n)
      sent.push(shared)
      for (const t of transports) t.send(shared)
    }
    await waitFor(() => clients.every((c) => c.received.length >= sent.length), { what: 'every frame at every client' })
    const expected = Buffer.concat(sent.map(wsFrame))
    for (const [i, { written }] of servers.entries()) {
      expect(Buffer.concat(written).equals(expected), `socket ${i}; ${replay}`).toBe(true)
    }
    for (const [i, { received }] of clients.entries()) {
      expect(received.length, `client ${i}; ${replay}`).toBe(sent.length)
      for (const [k, data] of received.entries())
        expect(Buffer.from(data).equals(Buffer.from(sent[k] as Uint8Array))).toBe(true)
    }
  })

  it('a shared frame is one Buffer handed to every socket as it is: no per-socket copy or conversion', async () => {
    const { servers, clients } = await connected(3)
    const transports = servers.map(
      ({ ws }, i) => new WebSocketTransport(ws as unknown as WebSocketLike, `s${i}`, { send: sendPrepared }),
    )
    const shared = new Uint8Array([7, 8, 9])
    for (const t of transports) t.send(shared)
    const written = servers.map(({ chunks }) => chunks.at(-1))
    // A Uint8Array that is not a Buffer would be turned into a new Buffer by each socket's write.
    expect(Buffer.isBuffer(written[0])).toBe(true)
    for (const chunk of written) expect(chunk).toBe(written[0])
    await waitFor(() => clients.every((c) => c.received.length === 1), { what: 'the frame at every client' })
    for (const { received } of clients) expect([...(received[0] as Uint8Array)]).toEqual([7, 8, 9])
  })

  it('frames keep their order when ws is busy with a frame of its own', async () => {
    const { servers, clients } = await connected(1)
    const { ws } = servers[0] as { ws: WebSocket }
    const t = new WebSocketTransport(ws as unknown as WebSocketLike, 's', { send: sendPrepared })
    const first = new Uint8Array([1])
    const second = new Uint8Array([2])
    // A Blob makes ws's sender busy (it reads the blob first): what follows must queue behind it.
    ws.send(new Blob([new Uint8Array([0])]))
    expect(canSendPrepared(ws as unknown as WebSocketLike)).toBe(false)
    t.send(first)
    t.send(second)
    const { received } = clients[0] as { received: Uint8Array[] }
    await waitFor(() => received.length >= 3, { what: 'the three frames' })
    expect(received.map((r) => r[0])).toEqual([0, 1, 2])
  })
})

describe('frames received from ws', () => {
  it('a frame that is a view of a larger read chunk arrives as its own bytes, a whole one without a copy', () => {
    // Like ws's EventEmitter: listeners by event, called with the socket as `this`.
    const handlers: Array<(this: unknown, data: unknown) => void> = []
    const socket = {
      binaryType: '',
      readyState: 1,
      bufferedAmount: 0,
      protocol: '',
      send: () => undefined,
      close: () => undefined,
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      on: (event: string, listener: (this: unknown, data: unknown) => void) => {
        if (event === 'message') handlers.push(listener)
      },
    }
    const t = new WebSocketTransport(socket as unknown as WebSocketLike, 'fake')
    const got: Uint8Array[] = []
    t.attach({ onOpen: () => undefined, onClose: () => undefined, onMessage: (bytes) => got.push(bytes) })
    expect(socket.binaryType).toBe('nodebuffer')
    const chunk = Buffer.from([9, 9, 1, 2, 3, 9, 9])
    const whole = Buffer.allocUnsafeSlow(2)
    whole.set([4, 5])
    expect(handlers).toHaveLength(1)
    for (const h of handlers) {
      h.call(socket, chunk.subarray(2, 5))
      h.call(socket, whole)
    }
    expect(got.map((b) => [...b])).toEqual([
      [1, 2, 3],
      [4, 5],
    ])
    expect((got[0] as Uint8Array).buffer.byteLength).toBe(3)
    expect((got[1] as Uint8Array).buffer).toBe(whole.buffer)
    expect(Object.getPrototypeOf(got[1])).toBe(Uint8Array.prototype)
  })
})
