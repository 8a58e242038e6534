/**
 * Replicas over memory, as many core and property tests set them up: a relay on a
 * MemoryNetwork with two clients syncing one document through it, and a replica whose
 * store writes only when the test flushes it.
 */
import { MemoryNetwork, MemoryStore, type PeerOptions, Replica, type ReplicaOptions } from '@converge/core'
import type * as Y from 'yjs'
import { seededRandom } from '../bench/lib/seeded-random.js'
import { waitFor } from './wait.js'

export interface RelayWithClients {
  net: MemoryNetwork
  /** The relay's store (undefined when the test gave the relay no store of its own). */
  store: MemoryStore | undefined
  relay: Replica
  a: Replica
  b: Replica
  /** The document as client a and client b have it open. */
  da: Y.Doc
  db: Y.Doc
  /** Destroys both clients, then the relay. */
  destroy(): Promise<void>
}

export interface RelayWithClientsOptions {
  /** The document both clients open (default 'doc'). */
  doc?: string
  /** The relay's options beyond its role and peer id ('relay'). */
  relay?: ReplicaOptions
  /** How client a connects (its reconnect backoff, say). */
  aConnect?: PeerOptions
  /** How long the clients may take to sync (default 5 s). */
  timeout?: number
  /** Also wait until nothing moves on the network any more (default true). */
  quiet?: boolean
}

/**
 * A relay listening at 'relay' on a new MemoryNetwork, and clients a and b connected to it
 * with `doc` open and synced; with `quiet`, nothing is in flight any more, so what follows
 * is caused by the test alone.
 */
export const relayWithClients = async (options: RelayWithClientsOptions = {}): Promise<RelayWithClients> => {
  const name = options.doc ?? 'doc'
  const timeout = options.timeout ?? 5_000
  const net = new MemoryNetwork()
  const relay = new Replica({ role: 'relay', peerId: 'relay', ...options.relay })
  net.listen('relay', (t) => relay.accept(t))
  const a = new Replica({ peerId: 'a' })
  const b = new Replica({ peerId: 'b' })
  a.connect(net.connector('relay', 'a'), options.aConnect)
  b.connect(net.connector('relay', 'b'))
  const da = await a.open(name)
  const db = await b.open(name)
  await a.whenSynced(name, { timeout })
  await b.whenSynced(name, { timeout })
  if (options.quiet ?? true) await waitFor(() => net.inFlight === 0, { timeout, what: 'nothing in flight' })
  const store = options.relay?.store instanceof MemoryStore ? options.relay.store : undefined
  return {
    net,
    store,
    relay,
    a,
    b,
    da,
    db,
    destroy: async () => {
      await a.destroy()
      await b.destroy()
      await relay.destroy()
    },
  }
}

/**
 * A replica on a MemoryStore that writes only when the test calls `store.flush()`, with
 * document `name` open and every error it reports collected.
 */
export const replicaOnHeldStore = async (name: string) => {
  const store = new MemoryStore({ autoFlush: false })
  const replica = new Replica({ store })
  const errors: unknown[] = []
  replica.on('error', (err) => errors.push(err))
  const doc = await replica.open(name)
  return { store, replica, errors, doc }
}

/**
 * A relay (cold documents on or off) on its own in-memory network with seeded delays;
 * `serve(name)` serves document `name` at `relay/<name>` on the y-websocket framing, as
 * stock clients reach it. `loads` counts the Y.Docs it built (its own .converge documents
 * aside).
 */
export const stockRelay = (
  coldDocs: boolean,
  seed: number,
  store = new MemoryStore(),
  options: ReplicaOptions = {},
) => {
  const net = new MemoryNetwork({ random: seededRandom(seed) })
  let loads = 0
  const relay = new Replica({
    role: 'relay',
    store,
    peerId: coldDocs ? 'cold' : 'warm',
    coldDocs,
    // A document also stays loaded between one stock client's leaving and the next's joining.
    unloadDelay: 60_000,
    // The relay's own tombstones document (.converge/…) is opened by the relay itself.
    observer: { docLoaded: (name) => (name.startsWith('.converge') ? undefined : loads++) },
    ...options,
  })
  const serve = (name: string) =>
    net.listen(`relay/${name}`, (t) => relay.accept(t, { framing: { yWebsocketDoc: name } }))
  return {
    net,
    relay,
    store,
    serve,
    get loads() {
      return loads
    },
  }
}
