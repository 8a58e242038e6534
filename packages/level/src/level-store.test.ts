import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type StoreHarness, storeConformanceCases } from '@converge/core/conformance'
import { MemoryLevel } from 'memory-level'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelStore } from './level-store.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

const diskHarness = (): StoreHarness => {
  let dir: string | undefined
  return {
    async open() {
      dir ??= await mkdtemp(join(tmpdir(), 'converge-level-'))
      dirs.push(dir)
      const store = new LevelStore(dir)
      await store.open()
      return store
    },
  }
}

const memoryHarness = (): StoreHarness => {
  const db = new MemoryLevel()
  return {
    async open() {
      // memory-level keeps its data across close and open of the same instance.
      const store = new LevelStore(db)
      await store.open()
      return store
    },
  }
}

describe('LevelStore conformance on classic-level (disk)', () => {
  for (const c of storeConformanceCases) it(c.name, () => c.run(diskHarness()))
})

describe('LevelStore conformance on memory-level', () => {
  for (const c of storeConformanceCases) it(c.name, () => c.run(memoryHarness()))
})

describe('LevelStore', () => {
  it('appends made in one turn, across documents, go to the database in one batch', async () => {
    const store = new LevelStore(new MemoryLevel())
    await store.open()
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 50; i++) doc.getText('t').insert(0, 'x')
    const before = store.stats.batches
    await Promise.all(updates.map((u, i) => store.append(`doc-${i % 5}`, u)))
    expect(store.stats.batches - before).toBe(1)
    expect(store.stats.appended).toBe(50)
    await store.close()
  })

  it('a failing batch rejects each of its appends with CONVERGE_STORE_WRITE_FAILED and counts it', async () => {
    const db = new MemoryLevel()
    const store = new LevelStore(db)
    await store.open()
    const original = db.batch.bind(db)
    let fail = true
    // biome-ignore lint/suspicious/noExplicitAny: patching the database to inject a failure.
    ;(db as any).batch = (ops: any, opts: any) => (fail ? Promise.reject(new Error('disk full')) : original(ops, opts))
    const results = await Promise.allSettled([
      store.append('a', new Uint8Array([0, 0])),
      store.append('b', new Uint8Array([0, 0])),
    ])
    expect(results.every((r) => r.status === 'rejected' && r.reason.code === 'CONVERGE_STORE_WRITE_FAILED')).toBe(true)
    expect(store.stats.writeErrors).toBe(1)
    fail = false
    await store.append('a', new Uint8Array([0, 0]))
    expect(await store.list()).toEqual(['a'])
    await store.close()
  })

  it('compacts a document in the background once its log passes the threshold', async () => {
    const store = new LevelStore(new MemoryLevel(), { compactMinUpdates: 100, compactRatio: 0 })
    await store.open()
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 250; i++) doc.getText('t').insert(i, 'y')
    for (const u of updates) await store.append('hot', u)
    await expect.poll(() => store.stats.compactions).toBeGreaterThanOrEqual(2)
    const loaded = new Y.Doc()
    Y.applyUpdate(loaded, (await store.load('hot')) as Uint8Array)
    expect(loaded.getText('t').toString()).toBe('y'.repeat(250))
    await store.close()
  })
})
