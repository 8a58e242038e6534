/**
 * A relay whose store takes no more writes says so: a LevelStore with the journal whose
 * LevelDB failed a batch it had already acknowledged refuses every later append (the journal
 * keeps the batch for the next open), and /readyz answers 503 with the reason, so an
 * orchestrator restarts the relay, which writes the batch to LevelDB.
 */
import { LevelStore } from '@converge/level'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { MemoryJournal } from '../../packages/level/src/memory-journal.test-suite.js'
import { failBatches } from '../../packages/level/src/write-gates.test-suite.js'
import { httpUrl, startRelay } from '../helpers/in-process-relay.js'
import { waitFor } from '../helpers/wait.js'

describe('a relay whose store fails after acknowledging from its journal', () => {
  it('/readyz answers 503 with the reason; the edit is kept by the journal and back after a reopen', async () => {
    const db = new MemoryLevel()
    const journal = new MemoryJournal()
    const store = new LevelStore(db, { journal })
    await store.open()
    const relay = await startRelay({ store })
    const http = httpUrl(relay)
    expect((await fetch(`${http}/readyz`)).status).toBe(200)

    let failing = true
    failBatches(db, () => failing)
    const handle = await relay.open('doc')
    handle.doc.getText('t').insert(0, 'kept')
    // Acknowledged from the journal; LevelDB fails it a turn later.
    await handle.whenSaved()
    await waitFor(() => store.failure !== undefined, { what: 'the store to fail' })
    const ready = await fetch(`${http}/readyz`)
    expect(ready.status).toBe(503)
    const body = (await ready.json()) as { status: string; reasons: string[] }
    expect(body.status).toBe('failed')
    expect(body.reasons[0]).toMatch(/no more writes until the relay restarts/)
    expect(journal.records).toHaveLength(1)

    failing = false
    await relay.stop()
    await store.close()
    const again = new LevelStore(db, { journal })
    await again.open()
    const { Doc, applyUpdate } = await import('yjs')
    const doc = new Doc()
    applyUpdate(doc, (await again.load('doc')) ?? new Uint8Array([0, 0]))
    expect(doc.getText('t').toString()).toBe('kept')
    await again.close()
  })
})
