import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import type { HookRunner } from './hooks-runner.js'

/**
 * Bumped only if the derivation below changes. Every relay of a mesh must derive the same
 * client id for a document, so equal seeds made on two relays are the same structs and
 * merge into one copy.
 */
export const SEED_VERSION = 1

/** The Yjs client id of a document's seed: 32 bits of SHA-256 over the version and the name. */
export const seedClientId = (doc: string): number =>
  createHash('sha256').update(`converge-seed:${SEED_VERSION}:${doc}`).digest().readUInt32BE(0)

/**
 * Runs onLoadDocument for a document the store has never held, on a Y.Doc with the
 * derived client id; resolves with what the hooks wrote, or undefined if nothing.
 */
export const seedDocument = async (hooks: HookRunner, doc: string): Promise<Uint8Array | undefined> => {
  const seed = new Y.Doc()
  seed.clientID = seedClientId(doc)
  try {
    await hooks.gate('onLoadDocument', { doc, seed })
    return seed.store.clients.size === 0 ? undefined : Y.encodeStateAsUpdate(seed)
  } finally {
    seed.destroy()
  }
}
