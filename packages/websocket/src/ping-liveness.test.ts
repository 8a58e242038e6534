import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Replica } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ReplicaWebSocketServer } from './replica-websocket-server.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void> | void)()
})

const serve = async (pingInterval: number) => {
  const replica = new Replica({ role: 'relay' })
  const sockets = new ReplicaWebSocketServer(replica, { pingInterval, firstMessageTimeout: 0 })
  const server: Server = createServer()
  server.on('upgrade', (req, socket, head) => sockets.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(async () => {
    await sockets.close(1001, 'test over')
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await replica.destroy()
  })
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets }
}

const open = (url: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${url}/doc`)
    ws.on('open', () => resolve(ws))
    ws.on('error', reject)
    cleanup.push(() => ws.terminate())
  })

/** Blocks this process's event loop for `ms` (a long computation, a starved CPU). */
const busy = (ms: number) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // spin
  }
}

describe('WebSocket ping liveness', () => {
  it("a ping round delayed by the server's busy event loop drops no socket whose pong waits unread", async () => {
    const { url } = await serve(100)
    const ws = await open(url)
    let pings = 0
    let closed: number | undefined
    ws.on('close', (code) => {
      closed = code
    })
    // The pong is queued before 'ping' is emitted: block the process right after, so the
    // server's next ping round runs, late, before it reads that pong.
    ws.on('ping', () => {
      pings++
      if (pings === 2) busy(500)
    })
    const until = Date.now() + 2_000
    while (Date.now() < until && pings < 6) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(pings).toBeGreaterThanOrEqual(6)
    expect(closed).toBeUndefined()
  })

  it('a socket that stops answering pings is dropped within two intervals', async () => {
    const { url, sockets } = await serve(100)
    const ws = await open(url)
    expect(sockets.connections).toBe(1)
    // Silence the client: it stops reading, so it answers no ping.
    ;(ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const started = Date.now()
    while (sockets.connections > 0 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20))
    expect(sockets.connections).toBe(0)
  })
})
