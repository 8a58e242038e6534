import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

/** Where the editing traces live: $CONVERGE_TRACES_DIR, else <repo>/../shared/data/traces. */
export const tracesDir = (): string =>
  process.env.CONVERGE_TRACES_DIR ?? fileURLToPath(new URL('../../../shared/data/traces', import.meta.url))

/** One edit: at `pos`, delete `del` characters, then insert `ins`. */
export type Patch = [pos: number, del: number, ins: string]

export interface TraceFile {
  endContent: string
  txns: Array<{ patches: Patch[] }>
}

/**
 * A trace by name, or undefined when its file is missing; then it says so on the console.
 * With CONVERGE_REQUIRE_TRACES=1 (CI) a missing trace throws instead, so the test fails.
 */
export const readTrace = (name: string, test: string): TraceFile | undefined => {
  const file = join(tracesDir(), `${name}.json.gz`)
  if (!existsSync(file)) {
    if (process.env.CONVERGE_REQUIRE_TRACES === '1') {
      throw new Error(`${test}: trace ${file} not found, and CONVERGE_REQUIRE_TRACES=1`)
    }
    console.log(`[${test}] SKIPPED: trace ${file} not found (set CONVERGE_TRACES_DIR to run it)`)
    return undefined
  }
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as TraceFile
}
