import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { loginToDemo, startEmbedRelayDemo } from '../helpers/embed-relay-demo.js'
import { nextEvent, waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/**
 * How an upgrade ends: its HTTP refusal status, the close code of a socket refused right after
 * the upgrade (4401, which a stock client does not retry), or 101 once the relay's first sync
 * message arrived (admitted).
 */
const upgradeStatus = (url: string, headers: Record<string, string> = {}) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('message', () => {
      ws.close()
      resolve(101)
    })
    ws.on('close', (code) => resolve(code))
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => undefined)
  })

describe('demos/embed-relay', () => {
  it("admits a y-websocket client by the app's session cookie, refuses it without, and mirrors settled documents to files", async () => {
    const app = await startEmbedRelayDemo()
    cleanup.push(() => app.dispose())
    const cookie = await loginToDemo(app.url, 'ada')
    expect(cookie).toMatch(/^sid=/)
    expect(await upgradeStatus(`${app.relay.url}/notes`)).toBe(4401)
    expect(await upgradeStatus(`${app.relay.url}/notes`, { cookie: 'sid=forged' })).toBe(4401)
    class CookieWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie } })
      }
    }
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(app.relay.url, 'notes', doc, { WebSocketPolyfill: CookieWebSocket as never })
    cleanup.push(() => {
      provider.destroy()
      doc.destroy()
    })
    await nextEvent(provider, 'sync')
    doc.getText('body').insert(0, 'mirrored')
    const mirror = async () =>
      (await (await fetch(`${app.url}/mirror`)).json()) as Array<{ doc: string; json: unknown; users: string[] }>
    await waitFor(async () => (await mirror()).length === 1, { what: 'the mirror file' })
    expect((await mirror())[0]).toMatchObject({ doc: 'notes', json: { body: 'mirrored' }, users: ['ada'] })
  })
})
