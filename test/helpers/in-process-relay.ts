import { MemoryStore } from '@converge/core'
import { Relay, type RelayOptions } from '@converge/relay'
import { afterEach } from 'vitest'
import WebSocket from 'ws'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => unknown)()
})

/** Runs `fn` after the current test (last registered, first run). */
export const after = (fn: () => unknown): void => {
  cleanup.push(fn)
}

/**
 * A relay in this process on 127.0.0.1 and a free port, with a memory store and no logs unless
 * `options` say otherwise, stopped after the test.
 */
export const startRelay = async (options: RelayOptions = {}): Promise<Relay> => {
  const relay = await Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger: false, ...options })
  after(() => relay.stop())
  return relay
}

/** The relay's HTTP base URL. */
export const httpUrl = (relay: Relay): string => relay.url.replace(/^ws/, 'http')

/**
 * How a y-websocket upgrade ends: the HTTP status of a refused upgrade, the close code of a
 * socket refused right after the upgrade (a stock y-websocket client stops on 4401/4403, it
 * would retry an HTTP 401 for ever), or 101 once the relay's first sync message arrived
 * (admitted and served).
 */
export const upgradeOutcome = (url: string, headers: Record<string, string> = {}): Promise<number> =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('message', () => {
      ws.close()
      resolve(101)
    })
    ws.on('close', (code) => resolve(code))
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.on('error', () => undefined)
  })
