import { CloseCode, MemoryStore } from '@converge/core'
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
const closeCode = (url: string, frames: Uint8Array[]) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url)
    ws.on('open', () => {
      for (const f of frames) ws.send(f)
    })
    ws.on('close', (code) => resolve(code))
    ws.on('error', () => undefined)
  })

describe('relay limits', () => {
  it('a client flooding messages beyond the rate limit is closed with 4429', async () => {
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
