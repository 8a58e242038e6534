import * as Y from 'yjs'
import type { DocHost } from './replica-doc-host.js'
import { EMPTY_UPDATE } from './state-digest.js'

/**
 * Stores the seed of a document the store has never held (ReplicaOptions.seedDocument),
 * durable before the document is visible. Returns the seed, or undefined when there is none.
 */
export const seedNewDoc = async (host: DocHost, name: string): Promise<Uint8Array | undefined> => {
  if (host.seedDocument === undefined) return undefined
  const update = await host.seedDocument(name)
  if (update === undefined || update.length <= EMPTY_UPDATE.length) return undefined
  await host.store.append(name, update, { stateVector: Y.encodeStateVectorFromUpdate(update) })
  host.observer.changed?.(name, update, undefined)
  return update
}
