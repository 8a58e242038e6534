import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { describe, it } from 'vitest'

/**
 * Where Chromium is: $CONVERGE_CHROMIUM, else Debian's /usr/bin/chromium (`.ci/run`
 * installs it). Undefined, with the reason, when there is none.
 */
export const findChromium = (): { path: string } | { path: undefined; reason: string } => {
  const fromEnv = process.env.CONVERGE_CHROMIUM
  if (fromEnv) {
    return existsSync(fromEnv)
      ? { path: fromEnv }
      : { path: undefined, reason: `CONVERGE_CHROMIUM=${fromEnv} does not exist` }
  }
  if (existsSync('/usr/bin/chromium')) return { path: '/usr/bin/chromium' }
  return { path: undefined, reason: 'no /usr/bin/chromium and CONVERGE_CHROMIUM is not set' }
}

/** CI sets CONVERGE_REQUIRE_BROWSER=1: there, a missing Chromium fails instead of skipping. */
export const browserRequired = process.env.CONVERGE_REQUIRE_BROWSER === '1'

/**
 * A describe block that runs in real Chromium. Without one it skips and says so on the
 * console, or fails when CONVERGE_REQUIRE_BROWSER=1.
 */
export const describeInChromium = (name: string, body: (executablePath: string) => void): void => {
  const found = findChromium()
  if (found.path !== undefined) {
    const path = found.path
    describe(name, () => body(path))
    return
  }
  if (browserRequired) {
    describe(name, () => {
      it('needs Chromium (CONVERGE_REQUIRE_BROWSER=1)', () => {
        throw new Error(`${found.reason}: install it (apt-get install chromium) or set CONVERGE_CHROMIUM`)
      })
    })
    return
  }
  console.log(
    `[e2e] SKIPPED "${name}": ${found.reason}. Install Chromium (apt-get install chromium) or set CONVERGE_CHROMIUM to run it; CI requires it.`,
  )
  describe.skip(name, () => body(''))
}

export const launchChromium = (executablePath: string): Promise<Browser> =>
  chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
