import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { loginToDemo, startEmbedRelayDemo } from '../helpers/embed-relay-demo.js'
import { after, upgradeOutcome } from '../helpers/in-process-relay.js'
import { nextEvent, waitFor } from '../helpers/wait.js'

describe('demos/embed-relay', () => {
  it("admits a y-websocket client by the app's session cookie, refuses it without, and mirrors settled documents to files", async () => {
    const app = await startEmbedRelayDemo()
    after(() => app.dispose())
    const cookie = await loginToDemo(app.url, 'ada')
    expect(cookie).toMatch(/^sid=/)
    expect(await upgradeOutcome(`${app.relay.url}/notes`)).toBe(4401)
    expect(await upgradeOutcome(`${app.relay.url}/notes`, { cookie: 'sid=forged' })).toBe(4401)
    class CookieWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie } })
      }
    }
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(app.relay.url, 'notes', doc, { WebSocketPolyfill: CookieWebSocket as never })
    after(() => {
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
