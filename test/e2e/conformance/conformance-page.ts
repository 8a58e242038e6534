// The Store conformance suite, run inside Chromium against LevelStore on IndexedDB
// (`level` resolves to browser-level in a browser build).
import { type StoreHarness, storeConformanceCases } from '@converge/core/conformance'
import { LevelStore } from '@converge/level'

export interface CaseResult {
  name: string
  ok: boolean
  error?: string
  ms: number
}

/** browser-level names its IndexedDB database with this prefix. */
const IDB_PREFIX = 'level-js-'

const deleteDatabase = (name: string): Promise<void> =>
  new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name)
    request.onsuccess = () => resolve()
    request.onerror = () => resolve()
    // A store a failed case left open blocks the delete; the database name is unique anyway.
    request.onblocked = () => resolve()
  })

/** Runs every case, each on a fresh IndexedDB database, and returns one result per case. */
const runConformance = async (): Promise<CaseResult[]> => {
  const results: CaseResult[] = []
  const list = document.getElementById('results')
  for (const [i, c] of storeConformanceCases.entries()) {
    const location = `conformance-${Date.now().toString(36)}-${i}`
    const harness: StoreHarness = {
      async open() {
        const store = new LevelStore(location)
        await store.open()
        return store
      },
    }
    const started = performance.now()
    let result: CaseResult
    try {
      await c.run(harness)
      result = { name: c.name, ok: true, ms: performance.now() - started }
    } catch (err) {
      const error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)
      result = { name: c.name, ok: false, error, ms: performance.now() - started }
    }
    await deleteDatabase(IDB_PREFIX + location)
    results.push(result)
    const item = document.createElement('li')
    item.textContent = `${result.ok ? 'ok' : 'FAILED'} ${c.name} (${result.ms.toFixed(0)} ms)`
    list?.append(item)
  }
  return results
}

declare global {
  interface Window {
    runConformance: () => Promise<CaseResult[]>
  }
}

window.runConformance = runConformance
