import { type Connector, Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { websocket } from '@converge/websocket'
import type { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'
import { adminArgs } from '../helpers/admin.js'
import { NatsServers } from '../helpers/nats-servers.js'
import { RelayProcess, tempDir } from '../helpers/relay-process.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { nextEvent } from '../helpers/wait.js'

/** What a test registers to be undone after it (in reverse order). */
export type Cleanup = Array<() => Promise<void> | void>

/** A JetStream cluster of `nodes` nats-server processes on loopback ports (max_payload 8MB unless given). */
export const natsCluster = async (
  cleanup: Cleanup,
  binary: string,
  nodes = 3,
  options: { maxPayload?: string } = {},
): Promise<NatsServers> => {
  const nats = await NatsServers.start(binary, nodes, options)
  cleanup.push(() => nats.dispose())
  return nats
}

/** The client URL of one NATS node (a relay given only it connects there first). */
export const nodeUrl = (nats: NatsServers, i: number): string => `nats://127.0.0.1:${nats.nodes[i]?.port}`

/** A relay process in the cluster: `--nats` is every node unless `natsUrls` narrows it. */
export const clusterRelay = async (
  cleanup: Cleanup,
  nats: NatsServers,
  extraArgs: string[] = [],
  natsUrls = nats.urls,
): Promise<RelayProcess> => {
  const relay = await RelayProcess.start({
    readyTimeout: 60_000,
    extraArgs: [
      ...adminArgs,
      '--nats',
      natsUrls,
      '--nats-replicas',
      String(nats.nodes.length),
      '--nats-catchup-timeout',
      '10000',
      ...extraArgs,
    ],
  })
  cleanup.push(() => relay.dispose())
  return relay
}

export const clusterRelays = (cleanup: Cleanup, nats: NatsServers, count: number, extraArgs: string[] = []) =>
  Promise.all(Array.from({ length: count }, () => clusterRelay(cleanup, nats, extraArgs)))

/** A stock y-websocket 3.x client, with `ws` as its WebSocket in Node. */
export const stockClient = (cleanup: Cleanup, url: string, room: string) =>
  stockProvider(cleanup, url, room, { maxBackoffTime: 500 })

export const synced = (provider: WebsocketProvider) =>
  provider.synced ? Promise.resolve() : nextEvent(provider, 'sync', 30_000).then(() => undefined)

/** A converge client replica that dials the relays in turn: the next one after every disconnect. */
export const failoverClient = async (cleanup: Cleanup, urls: string[]): Promise<Replica> => {
  const dir = await tempDir('replica')
  const store = new LevelStore(dir)
  await store.open()
  const replica = new Replica({ store })
  let next = 0
  const connectors = urls.map((u) => websocket(u))
  const rotating: Connector = () => (connectors[next++ % connectors.length] as Connector)()
  replica.connect(rotating, { backoff: { initialDelay: 50, maxDelay: 500 } })
  cleanup.push(async () => {
    await replica.destroy()
    await store.close()
  })
  return replica
}

export const readyz = async (relay: RelayProcess) =>
  (await (await fetch(`${relay.httpUrl}/readyz`)).json()) as { status: string; nats?: { connected: boolean } }

export const items = (doc: Y.Doc) => new Set(doc.getArray<string>('items').toArray())

/** The ids of `expected` that `doc` lacks. */
export const missing = (doc: Y.Doc, expected: Iterable<string>): string[] => {
  const have = items(doc)
  return [...expected].filter((x) => !have.has(x))
}
