/**
 * An update's struct sections: one per client in every update Yjs writes. A peer may write
 * a client in two sections (or in an empty one), and Yjs reads that two ways: Y.applyUpdate
 * keeps the last section of the client alone, while Y.mergeUpdates, Y.diffUpdate and
 * Y.encodeStateVectorFromUpdate keep every section. A store that keeps such bytes gives,
 * once it merges them (a load after a restart, a compaction), a document that differs from
 * the Y.Doc that took them: content it showed lost, or content it never held. So what a
 * replica stores is the update as a Y.Doc applies it (lastSectionsOnly), and a relay serving
 * a document cold lets the Y.Doc decide it (cold-update-check.ts).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type * as Y from 'yjs'
import { type ScannedRun, scanUpdate } from './update-scan.js'

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/** How many client sections an update's structs are listed in (its first number). */
export const clientSections = (update: Uint8Array): number => decoding.readVarUint(decoding.createDecoder(update))

/** Whether an update of `sections` client sections, decoded as `decoded`, lists a client in two (or in an empty one). */
export const repeatsAClient = (decoded: DecodedUpdate, sections: number): boolean => {
  const clients = new Set<number>()
  for (const s of decoded.structs) clients.add(s.id.client)
  return clients.size !== sections
}

/**
 * `update` as Y.applyUpdate reads it: of a client listed in several sections, the last
 * section alone (an empty one included: the client then has nothing), the delete set as
 * it is. The same bytes when no client repeats. Throws when the structs do not decode.
 */
export const lastSectionsOnly = (update: Uint8Array): Uint8Array => {
  const { runs, deleteSetAt } = scanUpdate(update, false)
  const last = new Map<number, ScannedRun>()
  for (const run of runs) last.set(run.client, run)
  if (last.size === runs.length) return update
  const encoder = encoding.createEncoder()
  const kept = runs.filter((run) => last.get(run.client) === run && run.count > 0)
  encoding.writeVarUint(encoder, kept.length)
  for (const run of kept) encoding.writeUint8Array(encoder, update.subarray(run.start, run.end))
  encoding.writeUint8Array(encoder, update.subarray(deleteSetAt))
  return encoding.toUint8Array(encoder)
}
