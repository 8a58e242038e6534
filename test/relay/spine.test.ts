import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RelayProcess } from '../helpers/relay-process.js'
import { contains, contentOf, nodeReplica } from '../helpers/replicas.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const startRelay = async () => {
  const relay = await RelayProcess.start()
  cleanup.push(() => relay.dispose())
  return relay
}

const client = async (url: string) => {
  const r = await nodeReplica(url)
  cleanup.push(() => r.dispose())
  return r
}

const sameState = (a: Y.Doc, b: Y.Doc) =>
  JSON.stringify(contentOf(a)) === JSON.stringify(contentOf(b)) &&
  Buffer.compare(Y.encodeStateVector(a), Y.encodeStateVector(b)) === 0

describe('the spine: replicas on LevelDB syncing through a relay process', () => {
  it('two replicas with their own LevelDB edit one doc concurrently and converge to identical JSON and state vectors', async () => {
    const relay = await startRelay()
    const [a, b] = await Promise.all([client(relay.url), client(relay.url)])
    const [da, db] = await Promise.all([a.replica.open('shared'), b.replica.open('shared')])
    await Promise.all([
      a.replica.whenSynced('shared', { timeout: 5000 }),
      b.replica.whenSynced('shared', { timeout: 5000 }),
    ])
    for (let i = 0; i < 50; i++) {
      const [doc, who] = i % 2 === 0 ? [da, 'a'] : [db, 'b']
      doc.transact(() => {
        const text = doc.getText('text')
        text.insert(Math.floor(text.length / 2), `${who}${i} `)
        doc.getMap('map').set(`${who}-${i % 5}`, i)
        doc.getArray('array').insert(0, [`${who}${i}`])
        if (i % 7 === 6) text.delete(0, 2)
      })
    }
    await Promise.all([
      a.replica.whenSaved('shared', { timeout: 5000 }),
      b.replica.whenSaved('shared', { timeout: 5000 }),
    ])
    await waitFor(() => sameState(da, db), { what: 'both replicas to hold the same state' })
    expect(da.getArray('array').length).toBe(50)
    expect(Object.keys(contentOf(da).map)).toHaveLength(10)

    // Each replica's own LevelDB holds the converged document too.
    await a.replica.close('shared')
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await a.store.load('shared')) as Uint8Array)
    expect(sameState(stored, db)).toBe(true)
  })

  it('a relay killed with SIGKILL and restarted on its data keeps every update a client had received', async () => {
    const relay = await startRelay()
    const writer = await client(relay.url)
    const reader = await client(relay.url)
    const dw = await writer.replica.open('typing')
    const dr = await reader.replica.open('typing')
    await reader.replica.whenSynced('typing', { timeout: 5000 })
    // The writer types; the relay is killed in the middle of it.
    let typed = 0
    const typing = setInterval(() => {
      for (let i = 0; i < 5; i++) dw.getText('text').insert(dw.getText('text').length, String(typed++ % 10))
      if (typed % 20 === 0) dw.getText('text').delete(0, 3)
    }, 2)
    await waitFor(() => dr.getText('text').length > 300, { what: 'the reader to receive typing' })
    await relay.kill()
    clearInterval(typing)
    const received = Y.encodeStateAsUpdate(dr)
    const receivedLength = dr.getText('text').length
    // Neither client may push its state back: only the relay's own data counts.
    await writer.dispose()
    await reader.dispose()
    cleanup.splice(cleanup.length - 2, 2)
    await relay.start()
    const fresh = await client(relay.url)
    const df = await fresh.replica.open('typing')
    await fresh.replica.whenSynced('typing', { timeout: 5000 })
    expect(receivedLength).toBeGreaterThan(300)
    expect(contains(df, received)).toBe(true)
  })

  it('edits made while the relay is down arrive when it returns, without restarting the replica', async () => {
    const relay = await startRelay()
    const a = await client(relay.url)
    const doc = await a.replica.open('offline')
    doc.getText('text').insert(0, 'before ')
    await a.replica.whenSaved('offline', { timeout: 5000 })
    await relay.kill()
    await waitFor(() => a.replica.status('offline').connection !== 'online', { what: 'the replica to notice' })
    doc.getText('text').insert(7, 'while-down ')
    doc.getMap('map').set('offline', true)
    expect(a.replica.status('offline').saved).toBe(false)
    await relay.start()
    await a.replica.whenSaved('offline', { timeout: 10_000 })
    const b = await client(relay.url)
    const db = await b.replica.open('offline')
    await b.replica.whenSynced('offline', { timeout: 5000 })
    expect(db.getText('text').toString()).toBe('before while-down ')
    expect(db.getMap('map').get('offline')).toBe(true)
  })
})
