import { afterEach, describe, expect, it } from 'vitest'
import type { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { RelayProcess } from '../helpers/relay-process.js'
import { contentOf, nodeReplica } from '../helpers/replicas.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { nextEvent, waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** A stock y-websocket 3.x client, with `ws` as its WebSocket in Node. */
const stockClient = (url: string, room: string) => stockProvider(cleanup, url, room, { maxBackoffTime: 500 })

const synced = (provider: WebsocketProvider) =>
  provider.synced ? Promise.resolve() : nextEvent(provider, 'sync', 10_000).then(() => undefined)

describe('interop with a stock y-websocket client', () => {
  it('a y-websocket client and a converge replica converge through the relay, awareness included', async () => {
    const relay = await RelayProcess.start()
    cleanup.push(() => relay.dispose())
    const { doc: ydoc, provider } = stockClient(relay.url, 'interop')
    const converge = await nodeReplica(relay.url)
    cleanup.push(() => converge.dispose())
    const cdoc = await converge.replica.open('interop')
    await synced(provider)
    await converge.replica.whenSynced('interop', { timeout: 5000 })

    ydoc.getText('text').insert(0, 'from y-websocket. ')
    ydoc.getMap('map').set('who', 'yws')
    cdoc.getText('text').insert(0, 'from converge. ')
    cdoc.getArray('array').push(['converge'])
    await waitFor(() => JSON.stringify(contentOf(ydoc)) === JSON.stringify(contentOf(cdoc)), {
      what: 'the two clients to converge',
    })
    expect(contentOf(cdoc).map).toEqual({ who: 'yws' })
    expect(Y.encodeStateVector(ydoc)).toEqual(Y.encodeStateVector(cdoc))

    provider.awareness.setLocalStateField('user', { name: 'stock' })
    converge.replica.awareness('interop').setLocalStateField('user', { name: 'converge' })
    const names = (states: Map<number, Record<string, unknown>>) =>
      [...states.values()]
        .map((s) => (s.user as { name?: string } | undefined)?.name)
        .filter(Boolean)
        .sort()
    await waitFor(() => JSON.stringify(names(provider.awareness.getStates())) === '["converge","stock"]', {
      what: 'the stock client to see both presences',
    })
    await waitFor(
      () => JSON.stringify(names(converge.replica.awareness('interop').getStates())) === '["converge","stock"]',
      { what: 'the converge replica to see both presences' },
    )
    // The stock client leaves: its presence is removed for the others.
    provider.disconnect()
    await waitFor(() => JSON.stringify(names(converge.replica.awareness('interop').getStates())) === '["converge"]', {
      what: 'the departed presence to be removed',
    })
  })

  it('a y-websocket client finds its document again after the relay restarts', async () => {
    const relay = await RelayProcess.start()
    cleanup.push(() => relay.dispose())
    const first = stockClient(relay.url, 'team/notes')
    await synced(first.provider)
    first.doc.getText('text').insert(0, 'persisted through a restart')
    // Saved on the relay once a second stock client sees it (the relay forwards only what is durable).
    const second = stockClient(relay.url, 'team/notes')
    await synced(second.provider)
    await waitFor(() => second.doc.getText('text').toString() === 'persisted through a restart', {
      what: 'a second client to see the edit',
    })
    first.provider.destroy()
    second.provider.destroy()
    await relay.stop()
    await relay.start()
    const third = stockClient(relay.url, 'team/notes')
    await synced(third.provider)
    await waitFor(() => third.doc.getText('text').toString() === 'persisted through a restart', {
      what: 'the document after the restart',
    })
  })
})
