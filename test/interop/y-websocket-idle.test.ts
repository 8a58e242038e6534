/**
 * A stock y-websocket client that stays connected keeps its document on the relay: however
 * long it sits idle (past the relay's unload delay), every update another client sends
 * reaches it, and so does presence. Before, the relay's session on a y-websocket socket did
 * not hold the document: it unloaded under the idle client, ending its session, and the
 * client (which sends its sync step 1 only on connecting) got nothing more until it
 * reconnected. The relay serves the document cold or loaded.
 */
import type { Relay } from '@converge/relay'
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import type { WebsocketProvider } from 'y-websocket'
import { after, startRelay } from '../helpers/in-process-relay.js'
import { seedFor } from '../helpers/seed.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { nextEvent, waitFor } from '../helpers/wait.js'

/** The relay's unload delay, in ms: short, so that the test runs past it at once. */
const UNLOAD_DELAY = 20

const client = (relay: Relay, room: string) => {
  const own: Array<() => void> = []
  after(() => {
    for (const c of own) c()
  })
  return stockProvider(own, relay.url, room, { disableBc: true, maxBackoffTime: 500 })
}

const synced = (provider: WebsocketProvider) =>
  provider.synced ? Promise.resolve() : nextEvent(provider, 'sync', 10_000).then(() => undefined)

/**
 * Waits until the unload delay has surely run out for a document that went idle before
 * now: a client opens a control document, syncs and leaves, and the relay unloads it.
 * Timers of one delay fire in the order they were set, so the idle document's (set
 * earlier) has fired too, had it been set.
 */
const pastUnloadDelay = async (relay: Relay, unloaded: string[]) => {
  const control = client(relay, 'control')
  await synced(control.provider)
  control.provider.destroy()
  await waitFor(() => unloaded.includes('control'), { what: 'the control document to unload' })
}

describe('a stock y-websocket client idle past the unload delay', () => {
  for (const coldDocs of [true, false]) {
    it(`keeps its document in memory, and a later client's update and presence reach it (cold docs ${coldDocs ? 'on' : 'off'})`, async () => {
      const unloaded: string[] = []
      const relay = await startRelay({
        unloadDelay: UNLOAD_DELAY,
        coldDocs,
        extensions: [{ onUnloadDocument: ({ doc }) => void unloaded.push(doc) }],
      })
      const first = client(relay, 'idle')
      await synced(first.provider)
      await pastUnloadDelay(relay, unloaded)
      expect(unloaded).toEqual(['control'])

      const second = client(relay, 'idle')
      second.doc.getText('t').insert(0, 'from the second client')
      second.provider.awareness.setLocalStateField('cursor', 2)
      await waitFor(() => first.doc.getText('t').toString() === 'from the second client', {
        what: 'the update to reach the first client',
      })
      await waitFor(() => first.provider.awareness.getStates().has(second.doc.clientID), {
        what: "the second client's presence to reach the first",
      })
    })
  }
})

describe('two stock y-websocket clients joining a document at seeded moments around the unload delay', () => {
  it('every update a client sends and every presence reach the other client, whatever the gap between their joins and writes', async () => {
    const random = prng.create(seedFor('y-websocket join timing', import.meta.url))
    const relay = await startRelay({ unloadDelay: UNLOAD_DELAY })
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const room = `joins-${i}`
        const a = client(relay, room)
        await synced(a.provider)
        // The second client joins before, around or well after the unload delay.
        await sleep(prng.uint32(random, 0, 6 * UNLOAD_DELAY))
        const b = client(relay, room)
        const [writer, reader] = prng.bool(random) ? [a, b] : [b, a]
        await synced(b.provider)
        await sleep(prng.uint32(random, 0, 3 * UNLOAD_DELAY))
        // The reader stays silent: it learns of the write only if its session lives on.
        writer.doc.getText('t').insert(0, `${room} written`)
        writer.provider.awareness.setLocalStateField('cursor', 1)
        await waitFor(() => reader.doc.getText('t').toString() === `${room} written`, {
          what: `${room}'s update to reach the other client`,
        })
        await waitFor(() => reader.provider.awareness.getStates().get(writer.doc.clientID)?.cursor === 1, {
          what: `${room}: the writer's presence at the reader`,
        })
        await sleep(prng.uint32(random, 0, 3 * UNLOAD_DELAY))
        reader.provider.awareness.setLocalStateField('cursor', 2)
        await waitFor(() => writer.provider.awareness.getStates().get(reader.doc.clientID)?.cursor === 2, {
          what: `${room}: the reader's presence at the writer`,
        })
      }),
    )
  })
})
