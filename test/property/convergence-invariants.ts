import { digestOfDoc, equalBytes } from '@converge/core'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { type Cluster, DOC_NAMES } from './cluster.js'
import { canonicalJson } from './doc-edits.js'

/** One replica's view of one document at quiescence. */
interface View {
  who: string
  doc: Y.Doc
  json: string
  stateVector: string
  digest: Uint8Array
}

const stateVectorText = (doc: Y.Doc): string => {
  const decoder = decoding.createDecoder(Y.encodeStateVector(doc))
  const entries: Array<[number, number]> = []
  for (let n = decoding.readVarUint(decoder); n > 0; n--) {
    entries.push([decoding.readVarUint(decoder), decoding.readVarUint(decoder)])
  }
  return entries
    .sort((x, y) => x[0] - y[0])
    .map(([c, k]) => `${c}:${k}`)
    .join(' ')
}

const view = (who: string, doc: Y.Doc): View => ({
  who,
  doc,
  json: canonicalJson(doc),
  stateVector: stateVectorText(doc),
  digest: digestOfDoc(doc),
})

const docOf = (update: Uint8Array | undefined): Y.Doc => {
  const doc = new Y.Doc()
  if (update !== undefined) Y.applyUpdate(doc, update)
  return doc
}

const pendingOf = (doc: Y.Doc): string | undefined => {
  const { pendingStructs, pendingDs } = doc.store
  if (pendingStructs === null && pendingDs === null) return undefined
  const missing = pendingStructs === null ? '' : ` missing ${JSON.stringify([...pendingStructs.missing])}`
  return `pending structs: ${pendingStructs !== null}${missing}, pending delete set: ${pendingDs !== null}`
}

/**
 * The invariants at quiescence, for every document: every replica (clients, and relays
 * whether the document is loaded or only stored) holds the same content and the same
 * state vector and delete set; no Y.Doc holds pending structs or a pending delete set;
 * a relay's loaded document equals what its store holds; every client is saved; and
 * every state a client (or an admin write) was told was saved is contained in the final
 * state. Throws a message naming the replicas.
 */
export const checkConvergence = async (cluster: Cluster): Promise<void> => {
  const failures: string[] = []
  for (const name of DOC_NAMES) {
    const views: View[] = []
    for (const node of cluster.nodes) {
      const replica = node.replica
      if (replica === undefined) {
        failures.push(`${node.name} is down at quiescence`)
        continue
      }
      const loaded = replica.loadedDoc(name)
      const stored = docOf(await node.durable.load(name))
      if (node.role === 'relay') {
        const storedPending = pendingOf(stored)
        if (storedPending !== undefined) failures.push(`${name}@${node.name} store: ${storedPending}`)
        if (loaded !== undefined && !equalBytes(digestOfDoc(loaded), digestOfDoc(stored))) {
          failures.push(
            `${name}@${node.name}: loaded doc differs from its store (loaded ${stateVectorText(loaded)}, stored ${stateVectorText(stored)})`,
          )
        }
        views.push(view(`${node.name}${loaded === undefined ? ' (store)' : ''}`, loaded ?? stored))
      } else {
        if (loaded === undefined) {
          failures.push(`${name}@${node.name} is not loaded at quiescence`)
          continue
        }
        // Everything is on the relays by now: a client that still waits for an ack never gets one.
        const status = replica.status(name)
        if (!status.saved) {
          failures.push(`${name}@${node.name} still has ${status.unsaved} unsaved changes at quiescence`)
        }
        views.push(view(node.name, loaded))
      }
      if (loaded !== undefined) {
        const pending = pendingOf(loaded)
        if (pending !== undefined) failures.push(`${name}@${node.name}: ${pending}`)
      }
    }
    const reference = views[0]
    if (reference === undefined) continue
    for (const v of views.slice(1)) {
      if (v.json !== reference.json) {
        failures.push(`${name}: content of ${v.who} differs from ${reference.who}:\n  ${v.json}\n  ${reference.json}`)
      }
      if (v.stateVector !== reference.stateVector) {
        failures.push(
          `${name}: state vector of ${v.who} differs from ${reference.who}: [${v.stateVector}] vs [${reference.stateVector}]`,
        )
      } else if (!equalBytes(v.digest, reference.digest)) {
        failures.push(`${name}: delete set of ${v.who} differs from ${reference.who}`)
      }
    }
    // Saved means durable on a relay: every relay and client ends up holding it.
    const final = Y.encodeStateAsUpdate(reference.doc)
    const seen = new Set<string>()
    for (const claim of cluster.claims) {
      if (claim.doc !== name) continue
      const key = Buffer.from(claim.state).toString('base64')
      if (seen.has(key)) continue
      seen.add(key)
      const merged = docOf(final)
      Y.applyUpdate(merged, claim.state)
      if (!equalBytes(digestOfDoc(merged), reference.digest) || canonicalJson(merged) !== reference.json) {
        failures.push(
          `${name}: ${claim.client} was told its state was saved (${claim.when}) but the final state lacks part of it:\n  claimed ${canonicalJson(docOf(claim.state))}\n  final   ${reference.json}`,
        )
      }
    }
  }
  if (failures.length > 0)
    throw new Error(`invariants broken at quiescence:\n${failures.join('\n')}\n${cluster.describe()}`)
}
