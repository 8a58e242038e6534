import { type ChangeLog, MemoryStore, type Store } from '@converge/core'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeRecord } from './level-change-log.js'
import { LevelStore } from './level-store.js'

const edits = (n: number, clientID = 7): Uint8Array[] => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, 'x')
  return out
}

interface Harness {
  open(): Promise<Store & { changes: ChangeLog }>
  reopen(store: Store): Promise<Store & { changes: ChangeLog }>
}

const level = (): Harness => {
  const db = new MemoryLevel()
  const open = async () => {
    const store = new LevelStore(db, { changeLog: true })
    await store.open()
    return store as LevelStore & { changes: ChangeLog }
  }
  const reopen = async (s: Store) => {
    await s.close()
    return open()
  }
  return { open, reopen }
}

const memory = (): Harness => ({
  open: async () => new MemoryStore({ changeLog: true }) as MemoryStore & { changes: ChangeLog },
  reopen: async (s) => (s as MemoryStore).restart() as MemoryStore & { changes: ChangeLog },
})

describe.each([
  ['LevelStore', level],
  ['MemoryStore', memory],
])('change log of %s', (_name, harness) => {
  it('gives every append one sequence number, in order, with its metadata, across a restart', async () => {
    const h = harness()
    let store = await h.open()
    const updates = edits(30)
    await Promise.all(updates.slice(0, 20).map((u, i) => store.append(i % 2 ? 'a' : 'b', u, { who: `u${i}` })))
    store = await h.reopen(store)
    for (const u of updates.slice(20)) await store.append('a', u)
    const records = await store.changes.read(0, 1000)
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(records.map((r) => r.update)).toEqual(updates)
    expect(records[3]?.who).toBe('u3')
    expect(records[3]?.doc).toBe('a')
    expect(records[25]?.who).toBeUndefined()
    expect(await store.changes.read(28, 10)).toHaveLength(2)
    expect(await store.changes.bounds()).toEqual({ oldest: 1, latest: 30 })
    await store.close()
  })

  it('trims the oldest records beyond the size retention and reports the oldest kept', async () => {
    const h = harness()
    const store = await h.open()
    for (const u of edits(50)) await store.append('a', u)
    const dropped = await store.changes.trim({ maxBytes: 10 * 60 })
    expect(dropped).toBeGreaterThan(0)
    const { oldest, latest } = await store.changes.bounds()
    expect(oldest).toBe(dropped + 1)
    expect(latest).toBe(50)
    expect((await store.changes.read(0, 100))[0]?.seq).toBe(oldest)
    expect(await store.changes.trim({ maxAgeMs: 0 })).toBe(50 - dropped)
    expect(await store.changes.bounds()).toEqual({ oldest: 51, latest: 50 })
    await store.append('a', edits(1, 9)[0] as Uint8Array)
    expect((await store.changes.read(50, 10)).map((r) => r.seq)).toEqual([51])
    await store.close()
  })

  it('tells watchers the latest sequence after each write', async () => {
    const store = await harness().open()
    const seen: number[] = []
    store.changes.watch((latest) => seen.push(latest))
    const [a, b, c] = edits(3)
    await Promise.all([store.append('a', a as Uint8Array), store.append('b', b as Uint8Array)])
    await store.append('a', c as Uint8Array)
    expect(seen).toEqual([2, 3])
    await store.close()
  })
})

describe('change log of LevelStore, on disk', () => {
  const entryKeys = async (db: MemoryLevel) => db.keys({ gte: 'c\u0000', lt: 'c\u0001', keyEncoding: 'utf8' }).all()

  it('writes the records of one batch as one entry, and reads one record per sequence number from any point in it', async () => {
    const db = new MemoryLevel()
    const store = new LevelStore(db, { changeLog: true })
    const updates = edits(12)
    await Promise.all(updates.slice(0, 10).map((u, i) => store.append(i % 3 ? 'a' : 'b', u, { who: `u${i}` })))
    await store.append('a', updates[10] as Uint8Array)
    expect(await entryKeys(db)).toHaveLength(2)
    expect((await store.changes?.read(0, 100))?.map((r) => r.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1))
    const middle = (await store.changes?.read(4, 3)) ?? []
    expect(middle.map((r) => [r.seq, r.who, r.doc])).toEqual([
      [5, 'u4', 'a'],
      [6, 'u5', 'a'],
      [7, 'u6', 'b'],
    ])
    expect(middle.map((r) => r.update)).toEqual(updates.slice(4, 7))
    await store.close()
  })

  it('reads entries of one record each (the earlier format) alongside batch entries, across a reopen', async () => {
    const db = new MemoryLevel()
    const updates = edits(3)
    await db.open()
    for (const [i, update] of updates.slice(0, 2).entries()) {
      const record = encodeRecord({ doc: 'old', update, stateVector: new Uint8Array(0), who: 'w', time: 1 })
      await db.put(`c\u0000${(i + 1).toString(16).padStart(16, '0')}`, record, {
        keyEncoding: 'utf8',
        valueEncoding: 'view',
      })
    }
    await db.put('k\u0000changes', '2', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const store = new LevelStore(db, { changeLog: true })
    await store.append('new', updates[2] as Uint8Array)
    const records = (await store.changes?.read(0, 10)) ?? []
    expect(records.map((r) => [r.seq, r.doc])).toEqual([
      [1, 'old'],
      [2, 'old'],
      [3, 'new'],
    ])
    expect(records.map((r) => r.update)).toEqual(updates)
    expect(await store.changes?.trim({ maxAgeMs: 1000 })).toBe(2)
    expect(await store.changes?.bounds()).toEqual({ oldest: 3, latest: 3 })
    await store.close()
  })
})
