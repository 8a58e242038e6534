import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConvergeError } from '@converge/core'
import { type StoreHarness, storeConformanceCases } from '@converge/core/conformance'
import { MemoryLevel } from 'memory-level'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docRange, kindOfDocKey, logKey } from './level-keys.js'
import { LevelStore } from './level-store.js'
import { LogChunkWriter } from './log-chunk.js'
import { failBatches, gateWrites } from './write-gates.test-suite.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'converge-level-'))
  dirs.push(dir)
  return dir
}

const diskHarness = (): StoreHarness => {
  let dir: string | undefined
  return {
    async open() {
      dir ??= await tempDir()
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

/** A text document and every update it emitted, one per edit. */
const typed = (edits: number, clientID = 7) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < edits; i++) {
    const text = doc.getText('t')
    if (i % 5 === 4) text.delete(Math.floor(text.length / 2), 1)
    else text.insert(Math.floor((text.length * 2) / 3), String.fromCharCode(97 + (i % 26)))
  }
  return { doc, updates, text: doc.getText('t').toString() }
}

const textOf = async (store: LevelStore, doc: string) => {
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, (await store.load(doc)) ?? new Uint8Array([0, 0]))
  return ydoc.getText('t').toString()
}

const bytesOnDisk = async (dir: string) => {
  let total = 0
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size
  return total
}

describe('LevelStore', () => {
  it('appends made in one turn, across documents, go to the database in one batch, one log entry per document', async () => {
    const db = new MemoryLevel()
    const store = new LevelStore(db)
    await store.open()
    const { updates } = typed(50)
    const before = store.stats.batches
    await Promise.all(updates.map((u, i) => store.append(`doc-${i % 5}`, u)))
    expect(store.stats.batches - before).toBe(1)
    expect(store.stats.appended).toBe(50)
    for (let i = 0; i < 5; i++) {
      const keys = await db.keys({ ...docRange(`doc-${i}`), keyEncoding: 'utf8' }).all()
      expect(keys).toHaveLength(1)
    }
    await store.close()
  })

  it('an append resolves only once the batch that holds it is written', async () => {
    const db = new MemoryLevel()
    const store = new LevelStore(db)
    await store.open()
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    gateWrites(db, () => held)
    let resolved = false
    const appended = store.append('a', typed(1).updates[0] as Uint8Array).then(() => {
      resolved = true
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(resolved).toBe(false)
    release()
    await appended
    expect(await textOf(store, 'a')).toBe('a')
    await store.close()
  })

  it('a failing batch rejects each of its appends with CONVERGE_STORE_WRITE_FAILED and counts it; the next batch works', async () => {
    const db = new MemoryLevel()
    const store = new LevelStore(db)
    await store.open()
    let fail = true
    failBatches(db, () => fail)
    const results = await Promise.allSettled([
      store.append('a', new Uint8Array([0, 0])),
      store.append('b', new Uint8Array([0, 0])),
    ])
    expect(results.every((r) => r.status === 'rejected' && r.reason.code === 'CONVERGE_STORE_WRITE_FAILED')).toBe(true)
    expect(store.stats.writeErrors).toBe(1)
    fail = false
    // In the turn of the failure, appends fail too (they might build on the lost ones).
    await expect(store.append('a', new Uint8Array([0, 0]))).rejects.toMatchObject({
      code: 'CONVERGE_STORE_WRITE_FAILED',
    })
    await new Promise((r) => setImmediate(r))
    await store.append('a', new Uint8Array([0, 0]))
    expect(await store.list()).toEqual(['a'])
    await store.close()
  })

  it('appends made while a failing batch was written fail with it: no later update lands without an earlier one', async () => {
    const db = new MemoryLevel()
    const store = new LevelStore(db)
    await store.open()
    let release!: (err?: Error) => void
    const held = new Promise<void>((resolve, reject) => {
      release = (err) => (err ? reject(err) : resolve())
    })
    let first = true
    let writing!: () => void
    const firstWriteStarted = new Promise<void>((r) => {
      writing = r
    })
    gateWrites(db, () => {
      if (!first) return
      first = false
      writing()
      return held
    })
    const [u1, u2] = typed(2).updates as [Uint8Array, Uint8Array]
    const earlier = store.append('a', u1)
    await firstWriteStarted
    const later = store.append('a', u2)
    release(new Error('disk full'))
    const results = await Promise.allSettled([earlier, later])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect((await store.list()).length).toBe(0)
    await new Promise((r) => setImmediate(r))
    await store.append('a', u1)
    expect(await textOf(store, 'a')).toBe('a')
    await store.close()
  })

  it('compacts a document in the background once its log holds compactMinUpdates updates', async () => {
    const store = new LevelStore(new MemoryLevel(), { compactMinUpdates: 100, compactRatio: 0 })
    await store.open()
    const { updates, text } = typed(250)
    for (const u of updates) await store.append('hot', u)
    await expect.poll(() => store.stats.compactions).toBeGreaterThanOrEqual(1)
    expect(await textOf(store, 'hot')).toBe(text)
    await store.close()
  })

  it('compacts once the log holds compactMaxLogBytes, however few updates', async () => {
    const store = new LevelStore(new MemoryLevel(), { compactMinUpdates: 1_000_000, compactMaxLogBytes: 2_000 })
    await store.open()
    const { updates, text } = typed(200)
    await Promise.all(updates.map((u) => store.append('big', u)))
    await expect.poll(() => store.stats.compactions).toBeGreaterThanOrEqual(1)
    expect(await textOf(store, 'big')).toBe(text)
    await store.close()
  })

  it('a failed compaction rejects or is reported, is counted, and leaves every update loadable', async () => {
    const db = new MemoryLevel()
    const errors: ConvergeError[] = []
    const store = new LevelStore(db, { compactMinUpdates: 20, compactRatio: 0, onError: (e) => errors.push(e) })
    await store.open()
    let fail = true
    // Only compaction batches delete entries.
    failBatches(
      db,
      () => fail,
      (kinds) => kinds.includes('del'),
    )
    const { updates, text } = typed(60)
    for (const u of updates) await store.append('d', u)
    await expect.poll(() => errors.length).toBeGreaterThanOrEqual(1)
    expect(errors[0]?.code).toBe('CONVERGE_STORE_WRITE_FAILED')
    await expect(store.compact('d')).rejects.toMatchObject({ code: 'CONVERGE_STORE_WRITE_FAILED' })
    expect(store.stats.writeErrors).toBeGreaterThanOrEqual(2)
    expect(await textOf(store, 'd')).toBe(text)
    fail = false
    await store.compact('d')
    expect(await textOf(store, 'd')).toBe(text)
    await store.close()
  })

  it('closing during a compaction stops it; the reopened document has every update', async () => {
    const db = new MemoryLevel()
    let store = new LevelStore(db, { compactMinUpdates: 10, compactRatio: 0 })
    await store.open()
    const { updates, text } = typed(3_000)
    await Promise.all(updates.map((u) => store.append('c', u)))
    // The background compaction that the batch started is still between its steps.
    await store.close()
    store = new LevelStore(db)
    await store.open()
    expect(await textOf(store, 'c')).toBe(text)
    await store.close()
  })

  it('two store instances on one database (two tabs on one IndexedDB) never overwrite each other', async () => {
    const db = new MemoryLevel()
    const one = new LevelStore(db, { compactMinUpdates: 15, compactRatio: 0 })
    const two = new LevelStore(db, { compactMinUpdates: 15, compactRatio: 0 })
    await one.open()
    await two.open()
    const a = typed(120, 1)
    const b = typed(120, 2)
    for (let i = 0; i < 120; i++) {
      await Promise.all([
        one.append('shared', a.updates[i] as Uint8Array),
        two.append('shared', b.updates[i] as Uint8Array),
      ])
      if (i % 40 === 39) await Promise.all([one.compact('shared'), two.compact('shared')])
    }
    const expected = new Y.Doc()
    Y.applyUpdate(expected, Y.encodeStateAsUpdate(a.doc))
    Y.applyUpdate(expected, Y.encodeStateAsUpdate(b.doc))
    for (const store of [one, two]) {
      expect(await textOf(store, 'shared')).toBe(expected.getText('t').toString())
    }
    await one.close()
    await two.close()
  })

  it('delete removes the appends made before it, written or not', async () => {
    const store = new LevelStore(new MemoryLevel())
    await store.open()
    const { updates } = typed(30)
    const appended = Promise.all(updates.map((u) => store.append('gone', u)))
    await store.delete('gone')
    await appended
    expect(await store.load('gone')).toBeUndefined()
    expect(await store.list()).toEqual([])
    await store.close()
  })

  it('keeps deleted content through compaction when gc is false', async () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    doc.getText('t').insert(0, 'hello world')
    doc.getText('t').delete(0, 6)
    const deletedContent = async (gc: boolean) => {
      const store = new LevelStore(new MemoryLevel(), { gc })
      await store.open()
      for (const u of updates) await store.append('h', u)
      await store.compact('h')
      const { structs } = Y.decodeUpdate((await store.load('h')) as Uint8Array)
      await store.close()
      return structs.some(
        (s) => s instanceof Y.Item && s.content instanceof Y.ContentString && s.content.str.includes('hello'),
      )
    }
    expect(await deletedContent(false)).toBe(true)
    expect(await deletedContent(true)).toBe(false)
  })

  it('a stored entry that Yjs cannot apply is reported, the rest loads, and compaction keeps it aside', async () => {
    const db = new MemoryLevel()
    const errors: ConvergeError[] = []
    const store = new LevelStore(db, { onError: (e) => errors.push(e) })
    await store.open()
    const { updates, text } = typed(40)
    for (const u of updates) await store.append('x', u)
    const garbage = new LogChunkWriter()
    garbage.add(new Uint8Array([5, 255, 255, 255, 255, 1, 2, 3]))
    await db.put(logKey('x', 'zzzz'), garbage.finish(), { keyEncoding: 'utf8', valueEncoding: 'view' })
    expect(await textOf(store, 'x')).toBe(text)
    expect(errors.length).toBeGreaterThanOrEqual(1)
    await store.compact('x')
    expect(await textOf(store, 'x')).toBe(text)
    const kinds = (await db.keys({ ...docRange('x'), keyEncoding: 'utf8' }).all()).map((k) => kindOfDocKey('x', k))
    expect(kinds.sort()).toEqual(['meta', 'quarantine', 'snapshot', 'state-vector'])
    await store.close()
  })

  it('an explicit compaction gives the disk space of the merged log back (classic-level)', async () => {
    const dir = await tempDir()
    const store = new LevelStore(dir, { autoCompact: false })
    await store.open()
    const { doc, updates } = typed(20_000)
    await Promise.all(updates.map((u) => store.append('paper', u)))
    await store.compact('paper')
    await store.close()
    const state = Y.encodeStateAsUpdate(doc).length
    // LevelDB's own files (CURRENT, MANIFEST, LOG) take a few hundred bytes besides the data.
    expect(await bytesOnDisk(dir)).toBeLessThan(1.5 * state + 4096)
  })

  it('an unloaded document leaves nothing in the memory of the store, and is listed, loads identical and compacts as before', async () => {
    const store = new LevelStore(new MemoryLevel(), { compactMinUpdates: 20, compactRatio: 0 })
    await store.open()
    const { updates, text } = typed(30)
    await Promise.all(updates.slice(0, 10).map((u) => store.append('a', u)))
    await Promise.all(updates.slice(0, 5).map((u) => store.append('b', u)))
    await store.stateVector('a')
    await store.digest('b')
    expect(store.docsInMemory).toBe(2)
    store.unloaded('a')
    expect(store.docsInMemory).toBe(1)
    store.unloaded('b')
    expect(store.docsInMemory).toBe(0)
    expect(await store.list()).toEqual(['a', 'b'])
    // Written again after the unload: listed once, every update there, and the log is still compacted.
    await Promise.all(updates.slice(10).map((u) => store.append('a', u)))
    await expect.poll(() => store.stats.compactions).toBeGreaterThanOrEqual(1)
    expect(await textOf(store, 'a')).toBe(text)
    expect(await store.list()).toEqual(['a', 'b'])
    await store.close()
  })

  it('a document with a long uncompacted log loads back exactly', async () => {
    const store = new LevelStore(new MemoryLevel(), { autoCompact: false })
    await store.open()
    const { updates, text } = typed(30_000)
    for (let i = 0; i < updates.length; i += 100)
      await Promise.all(updates.slice(i, i + 100).map((u) => store.append('long', u)))
    expect(await textOf(store, 'long')).toBe(text)
    await store.close()
  })
})
