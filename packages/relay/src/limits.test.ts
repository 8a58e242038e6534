import { CloseCode, encodeMuxFrame, MemoryStore, MUX_PROTOCOL, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Relay } from './relay.js'

const relays: Relay[] = []
afterEach(async () => {
  while (relays.length > 0) await (relays.pop() as Relay).stop()
})

const start = async (options: Parameters<typeof Relay.start>[0]) => {
  const relay = await Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger: false, ...options })
  relays.push(relay)
  return relay
}

/** Sends `frames` on a y-websocket socket and resolves with the close code. */
const closeCode = (url: string, frames: Uint8Array[], protocols: string[] = []) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url, protocols)
    ws.on('open', () => {
      for (const f of frames) ws.send(f)
    })
    ws.on('close', (code) => resolve(code))
    ws.on('error', () => undefined)
  })

describe('relay limits', () => {
  it('a client that keeps flooding far past the pacing (a paused socket cannot hold it back) is closed with 4529, a code stock clients retry on', async () => {
    const relay = await start({ maxMessagesPerSecond: 50, messageBurst: 100 })
    const queryAwareness = new Uint8Array([3])
    expect(
      await closeCode(
        `${relay.url}/flood`,
        Array.from({ length: 1000 }, () => queryAwareness),
      ),
    ).toBe(CloseCode.rateLimited)
  })

  it('a frame larger than maxMessageBytes is closed with 1009', async () => {
    const relay = await start({ maxMessageBytes: 1024 })
    expect(await closeCode(`${relay.url}/big`, [new Uint8Array(4096)])).toBe(CloseCode.messageTooBig)
  })
})

describe('relay limits on converge.v1 connections', () => {
  it('a document beyond maxDocsPerConnection is refused alone; the connection and its other documents keep syncing', async () => {
    const relay = await start({ maxDocsPerConnection: 2 })
    const replica = new Replica()
    const peer = replica.connect(websocket(relay.url))
    const refusals: string[] = []
    replica.on('error', (err) => refusals.push((err as Error).message))
    try {
      const a = await replica.open('a')
      const b = await replica.open('b')
      await replica.open('c')
      await expect.poll(() => refusals.join('\n'), { timeout: 5000 }).toContain('CONVERGE_LIMIT_EXCEEDED')
      a.getText('t').insert(0, 'kept a')
      b.getText('t').insert(0, 'kept b')
      await replica.whenSaved('a', { timeout: 5000 })
      await replica.whenSaved('b', { timeout: 5000 })
      expect(peer.status).toBe('open')
      expect(peer.lastClose).toBeUndefined()
      expect((await relay.store.list()).sort()).toEqual(['a', 'b'])
      // Closing a document frees its place on the connection.
      await replica.close('a')
      const d = await replica.open('d')
      d.getText('t').insert(0, 'kept d')
      await replica.whenSaved('d', { timeout: 5000 })
      expect((await relay.store.list()).sort()).toEqual(['a', 'b', 'd'])
    } finally {
      await replica.destroy()
    }
  })

  it('a first frame larger than maxPreAuthBytes is closed with 1009', async () => {
    const relay = await start({ maxPreAuthBytes: 1024 })
    const hello = encodeMuxFrame({ type: 'hello', version: 1, peerId: 'x'.repeat(4096), role: 'client', token: '' })
    expect(await closeCode(relay.url, [hello], [MUX_PROTOCOL])).toBe(CloseCode.messageTooBig)
  })

  it('a converge.v1 peer that sends no hello within handshakeTimeout is closed with 4508 (transient)', async () => {
    const relay = await start({ handshakeTimeout: 200 })
    const started = Date.now()
    expect(await closeCode(relay.url, [], [MUX_PROTOCOL])).toBe(CloseCode.heartbeatTimeout)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
