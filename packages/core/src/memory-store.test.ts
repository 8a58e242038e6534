import { describe, expect, it } from 'vitest'
import { MemoryStore } from './memory-store.js'
import { type StoreHarness, storeConformanceCases } from './store-conformance.js'

const harness = (): StoreHarness => {
  let current: MemoryStore | undefined
  return {
    async open() {
      current = current === undefined ? new MemoryStore() : current.restart()
      return current
    },
  }
}

describe('MemoryStore conformance', () => {
  for (const c of storeConformanceCases) it(c.name, () => c.run(harness()))
})

describe('MemoryStore', () => {
  it('a failed flush rejects every append it held, with a coded error', async () => {
    const store = new MemoryStore()
    store.failNextFlush()
    const results = await Promise.allSettled([
      store.append('a', new Uint8Array([0, 0])),
      store.append('b', new Uint8Array([0, 0])),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect((results[0] as PromiseRejectedResult).reason.code).toBe('CONVERGE_STORE_WRITE_FAILED')
    expect(store.stats.writeErrors).toBe(1)
  })

  it('a restart loses exactly the appends that were not flushed', async () => {
    const store = new MemoryStore({ autoFlush: false })
    const flushed = store.append('a', new Uint8Array([0, 0]))
    store.flush()
    await flushed
    void store.append('b', new Uint8Array([0, 0]))
    const after = store.restart()
    expect(await after.list()).toEqual(['a'])
  })
})
