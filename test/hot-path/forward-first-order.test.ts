import { MemoryNetwork, MemoryStore, Replica } from '@converge/core'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { seededRandom } from '../bench/lib/seeded-random.js'
import { waitFor } from '../helpers/wait.js'

const SEED = Number(process.env.CONVERGE_SEED ?? Math.floor(Math.random() * 2 ** 31))
const REPLAY = `CONVERGE_SEED=${SEED} npx vitest run --config test/vitest.config.ts test/hot-path/forward-first-order.test.ts`

/** A MemoryStore that also keeps, as a Y.Doc, what it made durable, by the time each append resolves. */
class DurableView extends MemoryStore {
  readonly durable = new Y.Doc()
  override append(doc: string, update: Uint8Array, meta?: Parameters<MemoryStore['append']>[2]): Promise<void> {
    return super.append(doc, update, meta).then(() => Y.applyUpdate(this.durable, update))
  }
}

/** True when every clock of `sv` is within `durable`'s. */
const within = (sv: Map<number, number>, durable: Y.Doc): boolean =>
  [...sv].every(([client, clock]) => clock <= Y.getState(durable.store, client))

describe('forwarding first, with readers joining and the document hydrating meanwhile (seeded)', () => {
  it('every reader has only durable edits at every update, none waits for a missing one, and all end with the writer’s text', async () => {
    console.log(`[forward-first order] seed ${SEED}; replay: ${REPLAY}`)
    const random = seededRandom(SEED)
    const net = new MemoryNetwork()
    const store = new DurableView({ autoFlush: false })
    // Served cold first, then a Y.Doc after the third update: the join and hydration race the edits.
    const relay = new Replica({ role: 'relay', peerId: 'relay', store, coldDocs: true, coldWritesBeforeLoad: 3 })
    net.listen('relay', (t) => relay.accept(t))
    const writer = new Replica({ peerId: 'w' })
    writer.connect(net.connector('relay', 'w'))
    const text = (await writer.open('doc')).getText('t')
    const readers: Array<{ replica: Replica; doc: Y.Doc }> = []
    const problems: string[] = []
    const join = async (i: number) => {
      const replica = new Replica({ peerId: `r${i}` })
      replica.connect(net.connector('relay', `r${i}`))
      const doc = await replica.open('doc')
      doc.on('update', () => {
        if (!within(Y.decodeStateVector(Y.encodeStateVector(doc)), store.durable)) problems.push(`r${i}: not durable`)
        if (doc.store.pendingStructs !== null) problems.push(`r${i}: an edit waits for a missing one`)
      })
      readers.push({ replica, doc })
    }
    await join(0)
    let typed = 0
    for (let step = 0; step < 120; step++) {
      const r = random()
      if (r < 0.45) text.insert(typed++, String.fromCharCode(97 + (typed % 26)))
      else if (r < 0.75) store.flush()
      else if (r < 0.82 && readers.length < 6) await join(readers.length)
      else await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)))
    }
    const expected = text.toString()
    await waitFor(
      () => {
        store.flush()
        return readers.every((reader) => reader.doc.getText('t').toString() === expected)
      },
      { timeout: 10_000, what: `every reader has the writer's ${typed} characters (${REPLAY})` },
    )
    expect(problems, REPLAY).toEqual([])
    expect(relay.loadedDoc('doc')?.getText('t').toString(), REPLAY).toBe(expected)
    for (const reader of readers) await reader.replica.destroy()
    await writer.destroy()
    await relay.destroy()
  })
})
