import { rm } from 'node:fs/promises'
import { type PeerOptions, Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { websocket } from '@converge/websocket'
import * as Y from 'yjs'
import { tempDir } from './relay-process.js'

export interface NodeReplica {
  replica: Replica
  store: LevelStore
  dir: string
  dispose(): Promise<void>
}

/** A client replica with its own LevelDB directory, connected to `url` with quick reconnects. */
export const nodeReplica = async (url: string | undefined, options: PeerOptions = {}): Promise<NodeReplica> => {
  const dir = await tempDir('replica')
  const store = new LevelStore(dir)
  await store.open()
  const replica = new Replica({ store })
  if (url !== undefined) {
    replica.connect(websocket(url), { backoff: { initialDelay: 50, maxDelay: 500 }, ...options })
  }
  return {
    replica,
    store,
    dir,
    async dispose() {
      await replica.destroy()
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** JSON with object keys sorted, so equal content compares equal whatever the insertion order. */
export const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

/** The test schema's content (a text, a map and an array), canonical. */
export const contentOf = (doc: Y.Doc) =>
  canonical({
    text: doc.getText('text').toString(),
    map: doc.getMap('map').toJSON(),
    array: doc.getArray('array').toJSON(),
  }) as { text: string; map: Record<string, unknown>; array: unknown[] }

/** True when applying `snapshot` to a copy of `doc` would change nothing: `doc` holds all of it. */
export const contains = (doc: Y.Doc, snapshot: Uint8Array): boolean => {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const before = JSON.stringify(contentOf(copy))
  const sv = Y.encodeStateVector(copy)
  Y.applyUpdate(copy, snapshot)
  return JSON.stringify(contentOf(copy)) === before && Buffer.compare(Y.encodeStateVector(copy), sv) === 0
}
