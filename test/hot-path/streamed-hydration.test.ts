/**
 * A sync answer streamed in parts from a document served cold (its encoded state), while
 * the document hydrates (builds its Y.Doc) under it: what the Y.Doc takes meanwhile
 * reaches the joiner. Updates to a session wait while its answer streams (the step 2 after
 * the parts carries them), so the step 2 must be made from the document as it is then,
 * not from the encoded state the parts were cut from, which no longer changes.
 */
import { MemoryNetwork, MemoryStore, Replica } from '@converge/core'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Transport } from '../../packages/core/src/transport.js'
import { seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'
import { ySocket } from '../helpers/y-socket.js'

const DOC = 'doc'
/** Parts of 4 KiB: the document below goes in tens of parts. */
const CHUNK = 4096
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

const socket = (net: MemoryNetwork, name: string, onPart?: () => void) => {
  const s = ySocket(net, name, { onPart })
  cleanups.push(s.close)
  return s
}

describe('a streamed answer from a document served cold that hydrates meanwhile', () => {
  it('a change the Y.Doc takes while the parts stream reaches the joiner (seeded)', async () => {
    const gen = prng.create(seedFor('streamed answer during hydration', import.meta.url))
    const editor = new Y.Doc()
    const text = editor.getText('t')
    for (let i = 0; i < 3_000; i++) text.insert(prng.uint32(gen, 0, text.length), prng.word(gen, 3, 12))
    const store = new MemoryStore()
    await store.append(DOC, Y.encodeStateAsUpdate(editor))
    const relay = new Replica({ role: 'relay', peerId: 'relay', store, coldDocs: true })
    cleanups.push(() => relay.destroy())
    const net = new MemoryNetwork()
    net.listen('relay', (t: Transport) =>
      relay.accept(t, { framing: { yWebsocketDoc: DOC }, maxSyncChunkBytes: CHUNK }),
    )

    // A writer joins and syncs (the document is served cold).
    const writer = socket(net, 'writer')
    await writer.opened()
    writer.send({ type: 'sync-step1', doc: DOC, stateVector: Y.encodeStateVector(writer.doc) })
    await waitFor(() => writer.step2(), { what: "the writer's step 2" })
    expect(relay.loadedDoc(DOC)).toBeUndefined()

    // At the joiner's first part, the writer sets a map entry: the document hydrates.
    let written = false
    const joiner = socket(net, 'joiner', () => {
      if (written) return
      written = true
      const change = new Y.Doc()
      change.getMap('m').set('k', 'written while the answer streamed')
      writer.send({ type: 'update', doc: DOC, update: Y.encodeStateAsUpdate(change) })
    })
    await joiner.opened()
    joiner.send({ type: 'sync-step1', doc: DOC, stateVector: Y.encodeStateVector(joiner.doc) })
    await waitFor(() => joiner.step2(), { what: "the joiner's step 2" })
    // The case ran: parts streamed, and the document hydrated with the change under them.
    expect(joiner.parts()).toBeGreaterThan(1)
    await waitFor(() => relay.loadedDoc(DOC)?.getMap('m').get('k') !== undefined, { what: 'the relay to hydrate' })

    await waitFor(() => joiner.doc.getMap('m').get('k') === 'written while the answer streamed', {
      what: 'the change to reach the joiner',
    })
    expect(joiner.doc.getText('t').toString()).toBe(text.toString())
  })
})
