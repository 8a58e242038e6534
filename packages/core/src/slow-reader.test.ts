import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { CloseCode } from './close-codes.js'
import { SlowReaderGate } from './slow-reader.js'

/** A relay's document, a reader's copy, and a gate between them whose queue size the test sets. */
const setup = (slowReaderBytes = 100, maxBufferedBytes = 1000) => {
  const doc = new Y.Doc()
  const reader = new Y.Doc()
  const state = { queued: 0, closed: 0 as number, flushes: 0 }
  const gate = new SlowReaderGate(
    {
      bufferedAmount: () => state.queued,
      stateOf: () => Y.decodeStateVector(Y.encodeStateVector(doc)),
      flush: (_doc, sv) => {
        state.flushes++
        Y.applyUpdate(reader, Y.encodeStateAsUpdate(doc, sv))
      },
      close: (code) => {
        state.closed = code
      },
    },
    slowReaderBytes,
    maxBufferedBytes,
  )
  // The reader gets every update the gate lets through.
  doc.on('update', (update: Uint8Array) => {
    if (!gate.intercept({ type: 'update', doc: 'd', update })) Y.applyUpdate(reader, update)
  })
  return { doc, reader, state, gate }
}

describe('SlowReaderGate', () => {
  it('passes updates while the queue is short, holds them past slowReaderBytes, and the one diff it sends on drain completes the reader', async () => {
    const { doc, reader, state, gate } = setup()
    const text = doc.getText('t')
    text.insert(0, 'sent. ')
    expect(reader.getText('t').toString()).toBe('sent. ')
    state.queued = 500
    for (let i = 0; i < 50; i++) text.insert(text.length, `${i} `)
    text.delete(0, 3)
    expect(gate.heldDocs).toBe(1)
    expect(reader.getText('t').toString()).toBe('sent. ')
    state.queued = 0
    await expect.poll(() => state.flushes, { timeout: 2000, interval: 5 }).toBe(1)
    expect(reader.getText('t').toString()).toBe(text.toString())
    expect(Y.encodeStateVector(reader)).toEqual(Y.encodeStateVector(doc))
    expect(gate.heldDocs).toBe(0)
    gate.dispose()
  })

  it('updates from another client while held are in the diff too (the held state vector steps back per client)', async () => {
    const { doc, reader, state, gate } = setup()
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    state.queued = 500
    doc.getText('t').insert(0, 'mine ')
    other.getText('t').insert(0, 'theirs ')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other))
    state.queued = 0
    await expect.poll(() => state.flushes, { timeout: 2000, interval: 5 }).toBe(1)
    expect(reader.getText('t').toString()).toBe(doc.getText('t').toString())
    gate.dispose()
  })

  it('closes the connection with 1013 when its queue passes maxBufferedBytes', () => {
    const { state, gate } = setup(100, 1000)
    state.queued = 2000
    gate.check()
    expect(state.closed).toBe(CloseCode.tryAgainLater)
  })
})
