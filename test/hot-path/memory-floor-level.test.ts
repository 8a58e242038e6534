import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { freePort } from '../bench/lib/free-port.js'
import { type BareLevelServer, startBareLevel } from '../bench/servers/bare-level-server.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { waitFor } from '../helpers/wait.js'

/**
 * The servers bench's memory floor with persistence (test/bench/servers/bare-level-server.ts)
 * must do for the scenario's stock clients what a sync server does, or its row measures
 * nothing: a client's state is stored and reaches a client that joins later, updates reach
 * the room's other clients, and a restarted server serves the document from LevelDB.
 */
describe('the memory floor with LevelDB (bare ws + LevelDB)', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  const start = async (dir: string): Promise<{ server: BareLevelServer; url: string }> => {
    const port = await freePort()
    const server = await startBareLevel(port, dir)
    return { server, url: `ws://127.0.0.1:${port}` }
  }

  it('stores a stock client’s state, syncs it to a later client and to one after a restart (range read), and forwards updates within the room only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bare-level-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const first = await start(dir)
    let closed = false
    const stop = async () => {
      if (!closed) await first.server.close()
      closed = true
    }
    cleanup.push(stop)

    // The first client has its state before it connects: the server's step 1 makes it send it.
    const seeded = new Y.Doc()
    seeded.getText('t').insert(0, 'hello')
    const perClient: Array<() => Promise<void> | void> = []
    const open = (url: string, room: string) => stockProvider(perClient, url, room, { disableBc: true })
    const writer = open(first.url, 'room')
    Y.applyUpdate(writer.doc, Y.encodeStateAsUpdate(seeded))
    await waitFor(() => writer.provider.synced, { timeout: 10_000 })
    await waitFor(() => first.server.durable('room'), { timeout: 10_000 })

    const reader = open(first.url, 'room')
    const elsewhere = open(first.url, 'other')
    await waitFor(() => reader.provider.synced && elsewhere.provider.synced, { timeout: 10_000 })
    expect(reader.doc.getText('t').toString()).toBe('hello')

    writer.doc.getText('t').insert(5, ' world')
    writer.provider.awareness.setLocalStateField('cursor', 11)
    await waitFor(() => reader.doc.getText('t').toString() === 'hello world', { timeout: 10_000 })
    await waitFor(() => reader.provider.awareness.getStates().get(writer.doc.clientID)?.cursor === 11, {
      timeout: 10_000,
    })
    expect(elsewhere.doc.getText('t').toString()).toBe('')
    await waitFor(() => first.server.durable('room'), { timeout: 10_000 })

    for (const fn of perClient.splice(0)) await fn()
    await stop()

    // A restarted server reads the document's stored updates back with its range read.
    const second = await start(dir)
    cleanup.push(() => second.server.close())
    const later = open(second.url, 'room')
    cleanup.push(...perClient)
    await waitFor(() => later.provider.synced, { timeout: 10_000 })
    expect(later.doc.getText('t').toString()).toBe('hello world')
  })
})
