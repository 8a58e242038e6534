/** The notes demo served by a relay, and a Chromium to open it in, for the tests of one `describe`. */
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { adminArgs } from '../helpers/admin.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { launchChromium } from './chromium.js'
import { NotesPage } from './notes-page.js'
import { DEMO_DIST, ensureDemoBuilt, VITE_BUILD_TIMEOUT } from './vite-build.js'

export interface Viewport {
  width: number
  height: number
}

/** A relay serving the built notes demo, with its admin API on. */
export const startNotesRelay = (): Promise<RelayProcess> =>
  RelayProcess.start({ extraArgs: ['--static', DEMO_DIST, ...adminArgs] })

let counter = 0
/** A fresh note name per test, so tests never see each other's edits. */
export const freshDoc = (what: string): string => `e2e-${what}-${process.pid}-${Date.now().toString(36)}-${counter++}`

export interface NotesDemo {
  /** The relay serving the demo (started before the tests). */
  readonly relay: RelayProcess
  /** A new browser context (as another person's browser: storage of its own) closed after the tests. */
  newContext(viewport: Viewport): Promise<BrowserContext>
  /** Opens `url` in a new context of `viewport`. */
  open(viewport: Viewport, url: string, label: string): Promise<NotesPage>
}

/**
 * Call in a `describe`: before its tests, builds the demo and starts the relay and Chromium;
 * after them, closes every context it opened, Chromium and the relay.
 */
export const useNotesDemo = (executablePath: string): NotesDemo => {
  let browser: Browser | undefined
  let relay: RelayProcess | undefined
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    await ensureDemoBuilt()
    relay = await startNotesRelay()
    browser = await launchChromium(executablePath)
  }, VITE_BUILD_TIMEOUT)

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)))
    await browser?.close()
    await relay?.dispose()
  })

  const newContext = async (viewport: Viewport) => {
    if (browser === undefined) throw new Error('the notes demo has not started')
    const context = await browser.newContext({ viewport })
    contexts.push(context)
    return context
  }
  return {
    get relay() {
      if (relay === undefined) throw new Error('the notes demo has not started')
      return relay
    },
    newContext,
    open: async (viewport, url, label) => NotesPage.open(await newContext(viewport), url, label),
  }
}
