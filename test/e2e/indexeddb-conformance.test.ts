import { storeConformanceCases } from '@converge/core/conformance'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RelayProcess } from '../helpers/relay-process.js'
import { describeInChromium, launchChromium } from './chromium.js'
import type { CaseResult } from './conformance/conformance-page.js'
import { buildTestPage, VITE_BUILD_TIMEOUT } from './vite-build.js'

/** How long the whole suite may take in the page, in ms. */
const SUITE_TIMEOUT = 120_000

describeInChromium('LevelStore on IndexedDB (Chromium) passes the Store conformance suite', (executablePath) => {
  let browser: Browser
  let server: RelayProcess
  const results = new Map<string, CaseResult>()

  beforeAll(async () => {
    const pageDist = await buildTestPage('conformance')
    // A relay serves the page: any static server would do, and this one is at hand.
    server = await RelayProcess.start({ extraArgs: ['--static', pageDist] })
    browser = await launchChromium(executablePath)
    const page = await browser.newPage()
    page.on('pageerror', (err) => console.log(`[conformance page] ${err.message}`))
    await page.goto(`${server.httpUrl}/index.html`)
    await page.waitForFunction(() => typeof window.runConformance === 'function')
    const ran = await page.evaluate(() => window.runConformance())
    for (const r of ran) results.set(r.name, r)
  }, VITE_BUILD_TIMEOUT + SUITE_TIMEOUT)

  afterAll(async () => {
    await browser?.close()
    await server?.dispose()
  })

  for (const c of storeConformanceCases) {
    it(c.name, () => {
      const result = results.get(c.name)
      expect(result, 'the case ran in the page').toBeDefined()
      expect(result?.error ?? '').toBe('')
      expect(result?.ok).toBe(true)
    })
  }
})
