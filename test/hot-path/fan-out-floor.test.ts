import type { Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../bench/lib/free-port.js'
import { startBareBroadcast } from '../bench/servers/bare-broadcast-server.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { waitFor } from '../helpers/wait.js'

/**
 * The servers bench's fan-out floor (test/bench/servers/bare-broadcast-server.ts) must do
 * what the sync servers do for the scenario's stock clients, or its row measures nothing:
 * they sync, and every update and presence change reaches the other clients of the room.
 */
describe('the fan-out floor (bare ws broadcast)', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  it('stock y-websocket clients sync with it, and an update and a presence change reach the other clients of the room, not another room', async () => {
    const port = await freePort()
    const server: Server = await startBareBroadcast(port)
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    cleanup.push(() => server.closeAllConnections())
    const url = `ws://127.0.0.1:${port}`
    const open = (room: string) => stockProvider(cleanup, url, room, { disableBc: true })
    const [writer, reader, elsewhere] = [open('room'), open('room'), open('other')]
    const all = [writer, reader, elsewhere]
    await waitFor(() => all.every((c) => c.provider.synced), { timeout: 10_000 })

    writer.doc.getText('t').insert(0, 'hello')
    writer.provider.awareness.setLocalStateField('cursor', 5)
    await waitFor(() => reader.doc.getText('t').toString() === 'hello', { timeout: 10_000 })
    await waitFor(() => reader.provider.awareness.getStates().get(writer.doc.clientID)?.cursor === 5, {
      timeout: 10_000,
    })
    expect(elsewhere.doc.getText('t').toString()).toBe('')
    expect(elsewhere.provider.awareness.getStates().has(writer.doc.clientID)).toBe(false)
  })
})
