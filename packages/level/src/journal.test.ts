import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeJournalRecord, encodeJournalRecord, JOURNAL_MARK_KEY } from './journal-records.js'
import { LevelStore } from './level-store.js'
import { MemoryJournal } from './memory-journal.test-suite.js'
import { failBatches, gateWrites } from './write-gates.test-suite.js'

const updates = (n: number, clientID: number) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (let i = 0; i < n; i++) doc.getText('t').insert(i, String.fromCharCode(97 + (i % 26)))
  return { out, text: doc.getText('t').toString() }
}

const textOf = async (store: LevelStore, doc: string) => {
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, (await store.load(doc)) ?? new Uint8Array([0, 0]))
  return ydoc.getText('t').toString()
}

/** A copy of `db`'s entries: what a process killed now would find on disk. */
const copyOf = async (db: MemoryLevel) => {
  const copy = new MemoryLevel()
  await copy.open()
  const entries = await db.iterator({ keyEncoding: 'utf8', valueEncoding: 'view' }).all()
  await copy.batch(
    entries.map(([key, value]) => ({ type: 'put' as const, key, value, keyEncoding: 'utf8', valueEncoding: 'view' })),
  )
  return copy
}

describe('journal records', () => {
  it('a record decodes to the operations and sequence number it was made from', () => {
    const ops = [
      {
        type: 'put',
        key: 'd\u0000a\u0000l\u0000x',
        value: new Uint8Array([1, 2, 3]),
        keyEncoding: 'utf8',
        valueEncoding: 'view',
      },
      { type: 'put', key: 'k\u0000changes', value: '42', keyEncoding: 'utf8', valueEncoding: 'utf8' },
      { type: 'put', key: 'd\u0000a\u0000m', value: { a: 1, b: [2] }, keyEncoding: 'utf8', valueEncoding: 'json' },
      { type: 'del', key: 'd\u0000a\u0000l\u0000y', keyEncoding: 'utf8' },
    ] as const
    expect(decodeJournalRecord(encodeJournalRecord(7, [...ops]))).toEqual({ seq: 7, ops })
  })
})

describe('LevelStore with a journal', () => {
  it('an append resolves once journaled, before its LevelDB write; reads wait for the write', async () => {
    const db = new MemoryLevel()
    const journal = new MemoryJournal()
    const store = new LevelStore(db, { journal, changeLog: true })
    await store.open()
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    gateWrites(db, () => held)
    const { out, text } = updates(3, 1)
    await Promise.all(out.map((u) => store.append('a', u)))
    expect(journal.records).toHaveLength(1)
    let loaded: string | undefined
    const reading = textOf(store, 'a').then((t) => {
      loaded = t
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(loaded).toBeUndefined()
    release()
    await reading
    expect(loaded).toBe(text)
    // Once LevelDB holds every batch, the journal is emptied.
    expect(journal.records).toHaveLength(0)
    await store.close()
  })

  it('open writes to LevelDB the journaled batches it lacks, once each, with their change records', async () => {
    const db = new MemoryLevel()
    const journal = new MemoryJournal()
    const first = new LevelStore(db, { journal, changeLog: true })
    await first.open()
    const a = updates(4, 1)
    await Promise.all(a.out.slice(0, 2).map((u) => first.append('a', u)))
    // A read waits until LevelDB holds them (and the journal is emptied).
    await first.load('a')
    expect(journal.records).toHaveLength(0)
    // The next batch never reaches LevelDB: the process dies while it is written.
    gateWrites(db, () => new Promise<void>(() => undefined))
    // Both in one turn: one batch, journaled, its LevelDB write never ending.
    await Promise.all([first.append('a', a.out[2] as Uint8Array), first.append('a', a.out[3] as Uint8Array)])
    expect(journal.records).toHaveLength(1)
    const disk = await copyOf(db)

    const second = new LevelStore(disk, { journal, changeLog: true })
    await second.open()
    expect(await textOf(second, 'a')).toBe(a.text)
    const { oldest, latest } = (await second.changes?.bounds()) ?? { oldest: 0, latest: 0 }
    const seqs = ((await second.changes?.read(oldest - 1, 100)) ?? []).map((r) => r.seq)
    expect(seqs).toEqual([1, 2, 3, 4])
    expect(latest).toBe(4)
    // Appends go on after the replayed batches, and a batch LevelDB already holds is not written twice.
    await second.append('a', updates(1, 2).out[0] as Uint8Array)
    // The change log shows a record once LevelDB holds it (its watchers hear of it then).
    await second.load('a')
    expect(((await second.changes?.read(0, 100)) ?? []).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    await second.close()
    expect(journal.records).toHaveLength(0)
  })

  it('a replay skips what LevelDB holds (its mark), even when compaction merged those entries since', async () => {
    const db = new MemoryLevel()
    const journal = new MemoryJournal()
    const store = new LevelStore(db, { journal, changeLog: true, autoCompact: false })
    await store.open()
    const { out, text } = updates(6, 1)
    for (const u of out) await store.append('a', u)
    await store.compact('a')
    const kept = journal.records.length
    // As if the process died before the journal was emptied: every record is in LevelDB already.
    journal.records = out.map((_, i) => encodeJournalRecord(i + 1, []))
    const mark = await db.get(JOURNAL_MARK_KEY, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    expect(Number(mark)).toBe(6)
    await store.close()
    const again = new LevelStore(db, { journal, changeLog: true })
    await again.open()
    expect(kept).toBe(0)
    expect(await textOf(again, 'a')).toBe(text)
    expect(((await again.changes?.read(0, 100)) ?? []).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6])
    await again.close()
  })

  it('LevelDB failing a journaled batch: later appends fail, the journal keeps it, the next open writes it', async () => {
    const db = new MemoryLevel()
    const journal = new MemoryJournal()
    const store = new LevelStore(db, { journal })
    await store.open()
    const { out, text } = updates(2, 1)
    let fail = true
    failBatches(db, () => fail)
    await store.append('a', out[0] as Uint8Array)
    await store.load('a').catch(() => undefined)
    await expect(store.append('a', out[1] as Uint8Array)).rejects.toMatchObject({ code: 'CONVERGE_STORE_WRITE_FAILED' })
    expect(journal.records).toHaveLength(1)
    fail = false
    await store.close()
    const again = new LevelStore(db, { journal })
    await again.open()
    expect(await textOf(again, 'a')).toBe(text.slice(0, 1))
    await again.close()
  })

  it('a whole record that does not decode stops the open and keeps the journal', async () => {
    const journal = new MemoryJournal()
    journal.records = [new Uint8Array([1, 1, 9])]
    const store = new LevelStore(new MemoryLevel(), { journal })
    await expect(store.open()).rejects.toMatchObject({ code: 'CONVERGE_INTERNAL' })
    expect(journal.records).toHaveLength(1)
  })

  it('a batch above maxJournalBatchBytes, or any with sync, resolves after its LevelDB write', async () => {
    for (const options of [{ maxJournalBatchBytes: 0 }, { sync: true }]) {
      const db = new MemoryLevel()
      const journal = new MemoryJournal()
      const store = new LevelStore(db, { journal, ...options })
      await store.open()
      let release!: () => void
      const held = new Promise<void>((r) => {
        release = r
      })
      gateWrites(db, () => held)
      let resolved = false
      const appended = store.append('a', updates(1, 1).out[0] as Uint8Array).then(() => {
        resolved = true
      })
      await new Promise((r) => setTimeout(r, 20))
      expect(resolved).toBe(false)
      expect(journal.records).toHaveLength(0)
      release()
      await appended
      await store.close()
    }
  })
})
