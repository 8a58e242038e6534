import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { type DemoApp, loginToDemo, startEmbedRelayDemo } from '../helpers/embed-relay-demo.js'
import { nextEvent, waitFor } from '../helpers/wait.js'
import { describeInChromium, launchChromium } from './chromium.js'
import { buildTestPage, VITE_BUILD_TIMEOUT } from './vite-build.js'

describeInChromium('onAuthenticate with the app session cookie (demos/embed-relay, Chromium)', (executablePath) => {
  let browser: Browser
  let app: DemoApp & { dispose(): Promise<void> }

  beforeAll(async () => {
    const pageDist = await buildTestPage('stock-client')
    app = await startEmbedRelayDemo({ publicDir: pageDist })
    browser = await launchChromium(executablePath)
  }, VITE_BUILD_TIMEOUT)

  afterAll(async () => {
    await browser?.close()
    await app?.dispose()
  })

  const clientPage = (doc: string) => `${app.url}/index.html?relay=${encodeURIComponent(app.relay.url)}&doc=${doc}`

  it('a stock y-websocket client in Chromium with the session cookie syncs; without it, it is refused', async () => {
    const loggedIn = await browser.newContext()
    const page = await loggedIn.newPage()
    await page.goto(`${app.url}/login?user=ada`)
    await page.goto(clientPage('notes'))
    await page.waitForFunction(() => window.stock?.synced === true, undefined, { timeout: 15_000 })
    await page.evaluate(() => window.stock.insert('from chromium'))

    // A Node client with its own session sees the browser's edit through the relay.
    const cookie = await loginToDemo(app.url, 'bo')
    class CookieWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: { cookie } })
      }
    }
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(app.relay.url, 'notes', doc, { WebSocketPolyfill: CookieWebSocket as never })
    await nextEvent(provider, 'sync')
    await waitFor(() => doc.getText('body').toString() === 'from chromium', { what: 'the edit to reach Node' })
    provider.destroy()

    const anonymous = await browser.newContext()
    const refused = await anonymous.newPage()
    await refused.goto(clientPage('notes'))
    // Refused: upgraded, then closed with 4401, which a stock client does not retry; never synced.
    await refused.waitForFunction(() => window.stock?.closes >= 1, undefined, { timeout: 15_000 })
    expect(await refused.evaluate(() => [window.stock.lastCode, window.stock.synced, window.stock.text()])).toEqual([
      4401,
      false,
      '',
    ])
    await loggedIn.close()
    await anonymous.close()
  })
})
