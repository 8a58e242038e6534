import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Step2Sink, streamAnswer } from './step2-stream.js'
import { SyncAnswer } from './sync-answer.js'
import { SyncAnswerCache } from './sync-answer-cache.js'

const EMPTY_SV = new Uint8Array([0])

/** A sink that applies what it gets to `receiver` and records it; `queued` plays the socket's queue. */
const recordingSink = (receiver: Y.Doc) => {
  const sent: Array<{ kind: 'part' | 'step2'; bytes: number; turn: number }> = []
  let turn = 0
  const sink: Step2Sink & { queued: number; ended: () => boolean; stop: boolean } = {
    queued: 0,
    stop: false,
    part: (update) => {
      Y.applyUpdate(receiver, update)
      sent.push({ kind: 'part', bytes: update.length, turn })
    },
    step2: (update) => {
      Y.applyUpdate(receiver, update)
      sent.push({ kind: 'step2', bytes: update.length, turn })
    },
    bufferedAmount: () => sink.queued,
    ended: () => sink.stop,
  }
  // Counts turns of the event loop while the stream runs.
  const ticker = setInterval(() => turn++, 0)
  return { sink, sent, stopTicking: () => clearInterval(ticker) }
}

/** 2,000 inserts at the front: as many structs, none merging. */
const queuedDoc = () => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  for (let i = 0; i < 2000; i++) text.insert(0, `edit ${i} `)
  return doc
}

/** Streams `doc`'s answer to a peer at `sv` in parts of `maxBytes`, as a relay's session does. */
const streamStep2 = (doc: Y.Doc, sv: Uint8Array, maxBytes: number, sink: Step2Sink): Promise<void> => {
  // Cleared on every change, as the document's own cache is (DocFanOut).
  const versions = new SyncAnswerCache()
  doc.on('update', () => versions.clear())
  return streamAnswer(new SyncAnswer(doc, sv, maxBytes, (since) => Y.encodeStateAsUpdate(doc, since), versions), sink)
}

describe('streamAnswer', () => {
  it('a diff that fits goes as the step 2 alone, in the same turn', async () => {
    const doc = new Y.Doc()
    doc.getText('text').insert(0, 'small')
    const receiver = new Y.Doc()
    const { sink, sent, stopTicking } = recordingSink(receiver)
    const done = streamStep2(doc, EMPTY_SV, 1024, sink)
    expect(sent.map((s) => s.kind)).toEqual(['step2'])
    await done
    stopTicking()
    expect(receiver.getText('text').toString()).toBe('small')
  })

  it('a larger diff goes in parts no larger than the bound plus one struct, one part per turn, then the step 2', async () => {
    const doc = queuedDoc()
    const receiver = new Y.Doc()
    const { sink, sent, stopTicking } = recordingSink(receiver)
    await streamStep2(doc, EMPTY_SV, 1024, sink)
    stopTicking()
    const parts = sent.filter((s) => s.kind === 'part')
    expect(parts.length).toBeGreaterThan(10)
    for (const p of parts) expect(p.bytes).toBeLessThan(1024 + 64)
    // The event loop turned between parts: no two parts in one turn after the first.
    const turns = new Set(parts.slice(1).map((p) => p.turn))
    expect(turns.size).toBe(parts.length - 1)
    expect(sent.at(-1)?.kind).toBe('step2')
    expect(receiver.getText('text').toString()).toBe(doc.getText('text').toString())
  })

  it('changes made while the parts stream (splits, deletions, new text) reach the receiver with the step 2', async () => {
    const doc = queuedDoc()
    const text = doc.getText('text')
    const receiver = new Y.Doc()
    const { sink, stopTicking } = recordingSink(receiver)
    let edits = 0
    const part = sink.part
    sink.part = (update) => {
      part(update)
      // Between parts: insert inside existing items (Yjs splits them), delete, append.
      edits++
      text.insert(Math.floor(text.length / 3), `[mid ${edits}]`)
      text.delete(Math.floor(text.length / 2), 7)
      text.insert(text.length, ` end ${edits}`)
    }
    await streamStep2(doc, EMPTY_SV, 1024, sink)
    stopTicking()
    expect(edits).toBeGreaterThan(10)
    expect(receiver.store.pendingStructs).toBeNull()
    expect(receiver.getText('text').toString()).toBe(text.toString())
  })

  it('waits while the connection holds a part unsent, and stops when the session ends', async () => {
    const doc = queuedDoc()
    const receiver = new Y.Doc()
    const { sink, sent, stopTicking } = recordingSink(receiver)
    sink.queued = 4096
    const done = streamStep2(doc, EMPTY_SV, 1024, sink)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(sent.length).toBe(1)
    sink.queued = 0
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(sent.length).toBeGreaterThan(1)
    sink.stop = true
    await done
    const count = sent.length
    await new Promise((resolve) => setTimeout(resolve, 20))
    stopTicking()
    expect(sent.length).toBe(count)
    expect(sent.some((s) => s.kind === 'step2')).toBe(false)
  })
})
