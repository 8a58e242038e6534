import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { readTrace } from '../durability/trace-file.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import { stockClient, synced } from './stock-client.js'

const TRACE = 'automerge-paper'
/** The first 60,000 transactions of the trace, typed as a burst that yields to the event loop every 500. */
const EDITS = 60_000
const YIELD_EVERY = 500

const trace = readTrace(TRACE, 'stock-client burst')

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** The text after the first `n` transactions, typed into a plain Y.Doc. */
const expectedText = (n: number): string => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  for (const { patches } of trace?.txns.slice(0, n) ?? []) {
    for (const [pos, del, ins] of patches) {
      if (del > 0) text.delete(pos, del)
      if (ins !== '') text.insert(pos, ins)
    }
  }
  return text.toString()
}

describe.skipIf(trace === undefined)('a stock y-websocket client bursting edits', () => {
  it(`is never disconnected while it bursts ${EDITS} ${TRACE} edits (yield every ${YIELD_EVERY}), and an observer receives every character`, async () => {
    const relay = await RelayProcess.start()
    cleanup.push(() => relay.dispose())
    const writer = stockClient(relay.url, 'burst')
    cleanup.push(() => writer.destroy())
    const observer = stockClient(relay.url, 'burst')
    cleanup.push(() => observer.destroy())
    await synced(writer.provider)
    await synced(observer.provider)

    const text = writer.doc.getText('text')
    const txns = (trace?.txns ?? []).slice(0, EDITS)
    for (let i = 0; i < txns.length; i++) {
      writer.doc.transact(() => {
        for (const [pos, del, ins] of txns[i]?.patches ?? []) {
          if (del > 0) text.delete(pos, del)
          if (ins !== '') text.insert(pos, ins)
        }
      })
      if ((i + 1) % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    const expected = expectedText(EDITS)
    expect(text.toString()).toBe(expected)
    await waitFor(() => observer.doc.getText('text').toString().length === expected.length, {
      timeout: 120_000,
      what: `the observer to have all ${expected.length} characters (has ${observer.doc.getText('text').length})`,
    })
    expect(observer.doc.getText('text').toString()).toBe(expected)
    expect(writer.closes).toEqual([])
    expect(writer.connects).toBe(1)
    expect(observer.closes).toEqual([])
  }, 240_000)
})
