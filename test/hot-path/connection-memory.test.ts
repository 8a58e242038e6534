/**
 * What an open connection costs the relay: nothing of its HTTP upgrade request (headers,
 * URL, the request object) stays alive once the socket is open. Counted in this process's
 * heap (relay and clients in one process; the clients keep no request either).
 */
import { describe, expect, it } from 'vitest'
import { liveObjects } from '../helpers/live-objects.js'
import { waitFor } from '../helpers/wait.js'
import { startRelay, stockClient } from '../security/harness.js'

const CONNECTIONS = 20

describe('connection memory', () => {
  it('an open y-websocket connection keeps nothing of its upgrade request alive', async () => {
    const relay = await startRelay({})
    const counted = ['IncomingMessage']
    const before = await liveObjects(counted)
    const clients = Array.from({ length: CONNECTIONS }, (_, i) => stockClient(relay.url, `conn-${i % 10}`))
    await waitFor(() => clients.every((c) => c.provider.synced), { what: 'every client to sync' })
    expect(await liveObjects(counted)).toEqual(before)
  })
})
