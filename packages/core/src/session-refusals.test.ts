/**
 * A refused update closes the connection, and nothing the peer sent after it is stored,
 * however the updates met the relay: one by one on a loaded document, together while the
 * document is read from the store, or while a relay serving it cold hydrates it (the
 * updates then wait for the load and are checked in one turn).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { handMade } from '../../../test/fuzz/hand-made-updates.js'
import { stockRelay } from '../../../test/helpers/memory-relay.js'
import { stockStep1, stockUpdate } from '../../../test/helpers/stock-frames.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { MemoryStore } from './memory-store.js'

const WRITER = 7000
const OTHER = 8000

/** A MemoryStore whose loads of 'doc' from the `holdFrom`-th on wait until `release`. */
class HeldStore extends MemoryStore {
  loads = 0
  holdFrom = Number.POSITIVE_INFINITY
  release: () => void = () => undefined
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve
  })
  override async load(doc: string): Promise<Uint8Array | undefined> {
    if (doc === 'doc' && this.loads++ >= this.holdFrom) await this.gate
    return super.load(doc)
  }
  /** What the store holds of 'doc' now, held or not. */
  stored(): Promise<Uint8Array | undefined> {
    return super.load('doc')
  }
}

const step1 = stockStep1()

const textOf = (update: Uint8Array | undefined): string => {
  const doc = new Y.Doc()
  if (update !== undefined) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/**
 * A relay (cold documents on or off) over a store holding "abcdef" from WRITER. A peer
 * sends `refused`, then a valid insert of "x" from OTHER, on one connection, while the
 * store's loads are held: from the first (the document is read for the session) or, after
 * a first joiner was answered, from the next (the cold relay hydrates). Returns the close
 * code and the text stored.
 */
const refusedThenValid = async (coldDocs: boolean, refused: Uint8Array, holdAfterJoin: boolean) => {
  const base = new Y.Doc()
  base.clientID = WRITER
  base.getText('t').insert(0, 'abcdef')
  const store = new HeldStore()
  await store.append('doc', Y.encodeStateAsUpdate(base))
  const other = new Y.Doc()
  other.clientID = OTHER
  Y.applyUpdate(other, Y.encodeStateAsUpdate(base))
  const before = Y.encodeStateVector(other)
  other.getText('t').insert(0, 'x')
  const valid = Y.encodeStateAsUpdate(other, before)

  const r = stockRelay(coldDocs, 1, store)
  r.serve('doc')
  cleanups.push(() => r.relay.destroy())
  if (holdAfterJoin) {
    const joiner = r.net.connector('relay/doc', 'joiner')()
    let answered = false
    joiner.attach({ onOpen: () => joiner.send(step1), onMessage: () => (answered = true), onClose: () => undefined })
    await waitFor(() => answered, { timeout: 5000, what: 'the joiner answered' })
    store.holdFrom = store.loads
  } else store.holdFrom = 0

  const delivered = r.net.delivered
  const t = r.net.connector('relay/doc', 'sender')()
  let closed: number | undefined
  t.attach({
    onOpen: () => {
      for (const f of [step1, stockUpdate(refused), stockUpdate(valid)]) t.send(f)
    },
    onMessage: () => undefined,
    onClose: (code) => (closed = code),
  })
  // Every frame reached the relay: they wait for the held load. A warm relay after a join
  // loads nothing, so nothing is held: there the refusal may close the link first.
  await waitFor(() => r.net.delivered >= delivered + 3 || closed !== undefined, {
    timeout: 5000,
    what: 'the frames delivered, or the sender closed',
  })
  store.release()
  await waitFor(() => closed !== undefined, { timeout: 5000, what: 'the sender closed' })
  await waitFor(async () => textOf(await store.stored()) === 'abcdef' || textOf(await store.stored()) === 'xabcdef', {
    timeout: 5000,
    what: 'a readable store',
  })
  return { closed, stored: textOf(await store.stored()) }
}

describe('a session whose update is refused', () => {
  const refusals: Array<[string, Uint8Array]> = [
    // The cold checks leave it to the Y.Doc (an empty deletion), whose checks refuse it.
    ['an empty deletion range', handMade([], [[WRITER, [[0, 0]]]])],
    // Refused by the cold checks themselves.
    ['bytes that do not decode', Uint8Array.from([1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f])],
  ]
  for (const [what, refused] of refusals) {
    for (const coldDocs of [true, false]) {
      for (const holdAfterJoin of [false, true]) {
        it(`${coldDocs ? 'cold' : 'warm'} relay, ${what}, updates held ${holdAfterJoin ? 'while it hydrates after a join' : 'while the document is read'}: closed with 4400, and the valid update sent after it is not stored`, async () => {
          expect(await refusedThenValid(coldDocs, refused, holdAfterJoin)).toEqual({ closed: 4400, stored: 'abcdef' })
        })
      }
    }
  }
})
