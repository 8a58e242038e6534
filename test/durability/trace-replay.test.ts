import { rm } from 'node:fs/promises'
import { LevelStore, type LevelStoreOptions } from '@converge/level'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { tempDir } from '../helpers/relay-process.js'
import { readTrace } from './trace-file.js'

const TRACE = 'sveltecomponent'
/** Appends kept in flight while replaying, as a busy relay would have. */
const WINDOW = 256

const trace = readTrace(TRACE, 'trace-replay')

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** The updates the trace emits when typed into one Y.Text, one transaction per recorded transaction. */
const traceUpdates = (): Uint8Array[] => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (const { patches } of trace?.txns ?? []) {
    doc.transact(() => {
      for (const [pos, del, ins] of patches) {
        if (del > 0) text.delete(pos, del)
        if (ins.length > 0) text.insert(pos, ins)
      }
    })
  }
  return updates
}

const loadText = async (store: LevelStore, doc: string) => {
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, (await store.load(doc)) ?? new Uint8Array([0, 0]))
  return { text: ydoc.getText('text').toString(), stateVector: Y.encodeStateVector(ydoc) }
}

const variants: Array<[string, LevelStoreOptions]> = [
  ['with the default options', {}],
  ['compacting every 50 updates', { compactMinUpdates: 50, compactRatio: 0 }],
  ['never compacting (one long log)', { autoCompact: false }],
]

describe.skipIf(trace === undefined)(`the ${TRACE} trace replayed through LevelStore`, () => {
  const updates = traceUpdates()

  for (const [what, options] of variants) {
    it(`loads back its end content ${what}, before and after reopening`, async () => {
      const dir = await tempDir('trace-replay')
      dirs.push(dir)
      let store = new LevelStore(dir, options)
      await store.open()
      let next = 0
      const writer = async () => {
        while (next < updates.length) await store.append(TRACE, updates[next++] as Uint8Array)
      }
      await Promise.all(Array.from({ length: WINDOW }, writer))
      const loaded = await loadText(store, TRACE)
      expect(loaded.text).toBe(trace?.endContent)
      expect(await store.stateVector(TRACE)).toEqual(loaded.stateVector)
      await store.close()

      store = new LevelStore(dir, options)
      await store.open()
      const reopened = await loadText(store, TRACE)
      expect(reopened.text).toBe(trace?.endContent)
      expect(await store.stateVector(TRACE)).toEqual(loaded.stateVector)
      await store.compact(TRACE)
      expect((await loadText(store, TRACE)).text).toBe(trace?.endContent)
      await store.close()
    })
  }
})
