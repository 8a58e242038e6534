/**
 * Formatting survives an answer cut in parts. A stock client applies each part as its own
 * remote transaction, and after one Yjs may delete format marks that look redundant in the
 * text it has so far (cleanupYTextAfterTransaction): deletions that would be local changes,
 * sent back to the relay and to everyone. In Yjs 13.6 that cleanup only looks at marks
 * before a text's first character, which a cut cannot reorder (marks there depend on the
 * ones they override), so parts keep the formatting; this holds it against changes to the
 * cut order or to Yjs.
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
const CHUNK = 256
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

const formattedText = (seed: number, clients: number, edits: number): Y.Doc => {
  const gen = prng.create(seed)
  const docs = Array.from({ length: clients }, () => new Y.Doc())
  for (let i = 0; i < edits; i++) {
    const d = docs[prng.uint32(gen, 0, clients - 1)] as Y.Doc
    const text = d.getText('t')
    const at = prng.uint32(gen, 0, text.length)
    const op = prng.uint32(gen, 0, 3)
    if (op === 0 || text.length < 10) text.insert(at, prng.word(gen, 1, 8))
    else if (op === 1) text.insert(at, prng.word(gen, 1, 8), { bold: true })
    else if (op === 2)
      text.format(at, prng.uint32(gen, 1, Math.min(20, text.length - at) || 1), { bold: prng.bool(gen) ? true : null })
    else text.delete(at, Math.min(3, text.length - at))
    if (prng.uint32(gen, 0, 9) === 0) {
      const a = docs[prng.uint32(gen, 0, clients - 1)] as Y.Doc
      const b = docs[prng.uint32(gen, 0, clients - 1)] as Y.Doc
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
    }
  }
  const all = new Y.Doc()
  for (const d of docs) Y.applyUpdate(all, Y.encodeStateAsUpdate(d))
  return all
}

/**
 * Bold text (client 3) with words made plain again by client 2: client 2's marks have
 * origins in client 1's text only, so a cut may send them before client 3's.
 */
const boldThenPlain = (): Y.Doc => {
  const a = new Y.Doc()
  a.clientID = 1
  a.getText('t').insert(0, 'hello world '.repeat(50))
  const b = new Y.Doc()
  b.clientID = 3
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
  b.getText('t').format(0, 600, { bold: true })
  const c = new Y.Doc()
  c.clientID = 2
  Y.applyUpdate(c, Y.encodeStateAsUpdate(b))
  for (let i = 0; i < 50; i++) c.getText('t').format(i * 12 + 6, 5, { bold: null })
  const all = new Y.Doc()
  Y.applyUpdate(all, Y.encodeStateAsUpdate(b))
  Y.applyUpdate(all, Y.encodeStateAsUpdate(c))
  return all
}

describe.each([true, false])('an answer cut in parts (coldDocs %s)', (coldDocs) => {
  it.each([
    [
      'random formatting by 4 clients (seeded)',
      () => formattedText(seedFor('split answer formatting', import.meta.url), 4, 1500),
    ],
    ['plain words inside a bold text', boldThenPlain],
  ])('%s: the joiner gets the formatting a whole answer gives, and writes nothing back', async (_, make) => {
    const editor = make()
    const store = new MemoryStore()
    await store.append(DOC, Y.encodeStateAsUpdate(editor))
    const relay = new Replica({ role: 'relay', peerId: 'relay', store, coldDocs })
    cleanups.push(() => relay.destroy())
    const net = new MemoryNetwork()
    net.listen('relay', (t: Transport) =>
      relay.accept(t, { framing: { yWebsocketDoc: DOC }, maxSyncChunkBytes: CHUNK }),
    )
    const joiner = ySocket(net, 'joiner')
    cleanups.push(joiner.close)
    await joiner.join()
    await waitFor(() => joiner.step2(), { what: "the joiner's step 2" })
    expect(joiner.parts()).toBeGreaterThan(1)
    const whole = new Y.Doc()
    Y.applyUpdate(whole, Y.encodeStateAsUpdate(editor))
    expect(joiner.doc.getText('t').toDelta()).toEqual(whole.getText('t').toDelta())
    expect(joiner.local.length).toBe(0)
  })
})
