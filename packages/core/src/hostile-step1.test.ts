/**
 * Hostile sync step 1s (state vectors and delete digests a peer crafts) against a relay's
 * document served cold and loaded, answered whole and in parts: each is either answered as
 * a Y.Doc answers it or refused as malformed (4400, counted once); the relay stays up, and
 * a well-behaved peer syncs after all of them. A failure while a streamed answer is cut, in
 * a later turn, closes that one peer and does not kill the process.
 */
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { waitFor } from '../../../test/bench/lib/wait.js'
import { encodeDeleteDigests } from './delete-set-chunks.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { encodeMuxFrame } from './mux-codec.js'
import { Replica } from './replica.js'
import { SyncAnswer } from './sync-answer.js'
import type { Transport } from './transport.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from './y-websocket-codec.js'

const DOC = 'doc'
const EDITOR = 7

afterEach(() => {
  vi.restoreAllMocks()
})

/** A state vector's bytes as a peer may write them: `count` may lie, clients repeat. */
const stateVector = (entries: Array<[number, number]>, count = entries.length): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, count)
  for (const [client, clock] of entries) {
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, clock)
  }
  return encoding.toUint8Array(e)
}

/** Hostile state vectors: answered like a Y.Doc answers them, or (undefined) refused as malformed. */
const HOSTILE: Record<string, Uint8Array> = {
  'a client id of 2^53 - 1': stateVector([[2 ** 53 - 1, 5]]),
  'a client id past 32 bits': stateVector([[2 ** 32 + EDITOR, 5]]),
  'a clock of 2^53 - 1': stateVector([[EDITOR, 2 ** 53 - 1]]),
  'a clock past 31 bits': stateVector([[EDITOR, 2 ** 31 + 5]]),
  'a clock inside a struct': stateVector([[EDITOR, 17]]),
  'a client listed three times': stateVector([
    [EDITOR, 5],
    [EDITOR, 100],
    [EDITOR, 2],
  ]),
  'a client listed twice, first past its clock': stateVector([
    [EDITOR, 2 ** 40],
    [EDITOR, 3],
  ]),
  'trailing bytes': new Uint8Array([1, EDITOR, 3, 9, 9, 9]),
}
const MALFORMED: Record<string, Uint8Array> = {
  'a varint past 2^53': new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1]),
  'a truncated varint': new Uint8Array([1, EDITOR, 0x80]),
  'a truncated second entry': new Uint8Array([2, EDITOR, 3, 0x80, 0x80]),
  'a count larger than its entries': stateVector([[EDITOR, 1]], 3),
  'no bytes': new Uint8Array([]),
}

/** The editor's document: 200 inserts (one client) and a deletion; stored, so a relay serves it. */
const editorDoc = () => {
  const editor = new Y.Doc()
  editor.clientID = EDITOR
  const text = editor.getText('t')
  for (let i = 0; i < 200; i++) text.insert(0, `w${i} `)
  text.delete(3, 40)
  return editor
}

/** What a fresh Y.Doc holds after it applied `updates`: its text and state vector. */
const outcome = (updates: Uint8Array[]) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return { text: doc.getText('t').toString(), sv: Y.decodeStateVector(Y.encodeStateVector(doc)) }
}

/** A relay on `net` with the editor's document stored, served cold or loaded. */
const relayWith = async (editor: Y.Doc, coldDocs: boolean, maxSyncChunkBytes: number) => {
  const store = new MemoryStore()
  await store.append(DOC, Y.encodeStateAsUpdate(editor))
  const errors: string[] = []
  const relay = new Replica({
    role: 'relay',
    peerId: 'relay',
    store,
    coldDocs,
    observer: { protocolError: (_peer, code, closeCode) => errors.push(`${code} ${closeCode}`) },
  })
  const net = new MemoryNetwork()
  net.listen('relay', (t: Transport) => relay.accept(t, { framing: { yWebsocketDoc: DOC }, maxSyncChunkBytes }))
  net.listen('relay-mux', (t: Transport) => relay.accept(t, { maxSyncChunkBytes }))
  if (!coldDocs) await relay.open(DOC)
  return { relay, net, errors }
}

/** A y-websocket socket that sends `sv` as its step 1: the updates it was answered with, or its close code. */
const askWith = async (net: MemoryNetwork, name: string, sv: Uint8Array) => {
  const t = net.connector('relay', name)()
  const updates: Uint8Array[] = []
  let step2 = false
  let closed: number | undefined
  t.attach({
    onOpen: () => t.send(encodeYWebsocketFrame({ type: 'sync-step1', doc: DOC, stateVector: sv })),
    onMessage: (frame) => {
      const m = decodeYWebsocketFrame(frame, DOC)
      if (m.type === 'update' || m.type === 'sync-step2') updates.push(m.update)
      if (m.type === 'sync-step2') step2 = true
    },
    onClose: (code) => {
      closed = code
    },
  })
  await waitFor(() => closed !== undefined || step2, { what: `an answer to ${name}` })
  t.close()
  return { updates, closed }
}

describe('hostile sync step 1', () => {
  for (const coldDocs of [true, false]) {
    for (const [shape, chunk] of [
      ['whole', 1 << 20],
      ['in parts', 256],
    ] as const) {
      it(`state vectors against a document ${coldDocs ? 'served cold' : 'loaded'}, answered ${shape}: as a Y.Doc answers, or 4400 counted once; the relay serves a good peer after`, async () => {
        const editor = editorDoc()
        const { relay, net, errors } = await relayWith(editor, coldDocs, chunk)
        for (const [name, sv] of Object.entries(HOSTILE)) {
          const { updates, closed } = await askWith(net, name, sv)
          expect(closed, name).toBeUndefined()
          expect(outcome(updates), name).toEqual(outcome([Y.encodeStateAsUpdate(editor, sv)]))
        }
        for (const [name, sv] of Object.entries(MALFORMED)) {
          expect(() => Y.encodeStateAsUpdate(editor, sv), `Yjs refuses ${name} too`).toThrow()
          expect((await askWith(net, name, sv)).closed, name).toBe(4400)
        }
        expect(errors).toEqual(Object.keys(MALFORMED).map(() => 'CONVERGE_MALFORMED_MESSAGE 4400'))
        const good = await askWith(net, 'good', stateVector([]))
        expect(outcome(good.updates)).toEqual(outcome([Y.encodeStateAsUpdate(editor)]))
        await relay.destroy()
      })
    }
  }

  it('hostile delete digests (converge.v1) are answered or refused as malformed, the relay keeps serving', async () => {
    const digests = (client: number, bits: number, chunks: number) =>
      encodeDeleteDigests(new Map([[client, { bits, digests: new Uint8Array(chunks * 8) }]]))
    const cases: Array<[string, Uint8Array, number | undefined]> = [
      ['chunks of 2^53 clocks', digests(EDITOR, 53, 4096), undefined],
      ['a client id of 2^53 - 1', digests(2 ** 53 - 1, 6, 1), undefined],
      ['chunks shorter than any encoder writes', digests(EDITOR, 1, 1), 4400],
      ['more chunks than any encoder writes', digests(EDITOR, 6, 4097), 4400],
      ['trailing bytes', new Uint8Array([...digests(EDITOR, 6, 1), 0]), 4400],
    ]
    for (const coldDocs of [true, false]) {
      const editor = editorDoc()
      const { relay, net, errors } = await relayWith(editor, coldDocs, 256)
      for (const [name, deleteDigests, expected] of cases) {
        let answered = false
        const observer = { messageIn: (_peer: string, type: string) => (answered ||= type === 'sync-step2') }
        const client = new Replica({ peerId: `c-${name}`, observer })
        let transport: Transport | undefined
        const connector = net.connector('relay-mux', name)
        const link = client.connect(() => (transport = connector()), { backoff: { initialDelay: 60_000 } })
        await waitFor(() => link.status === 'open', { what: `${name} open` })
        const sv = stateVector([[EDITOR, 3]])
        transport?.send(encodeMuxFrame({ type: 'sync-step1-deletes', doc: DOC, stateVector: sv, deleteDigests }))
        if (expected !== undefined) await waitFor(() => link.lastClose?.code === expected, { what: `${name} closed` })
        else await waitFor(() => answered, { what: `the answer to ${name}` })
        await client.destroy()
      }
      expect(errors).toEqual(cases.filter(([, , c]) => c !== undefined).map(() => 'CONVERGE_MALFORMED_MESSAGE 4400'))
      const good = await askWith(net, 'good', stateVector([]))
      expect(outcome(good.updates)).toEqual(outcome([Y.encodeStateAsUpdate(editor)]))
      await relay.destroy()
    }
  })

  it('a failure while a streamed answer is cut, in a later turn, closes that one peer (counted) and the relay keeps serving', async () => {
    const editor = editorDoc()
    const { relay, net, errors } = await relayWith(editor, false, 256)
    const part = SyncAnswer.prototype.part
    let failed = false
    vi.spyOn(SyncAnswer.prototype, 'part').mockImplementation(function (this: SyncAnswer, index: number) {
      if (index === 2 && !failed) {
        failed = true
        throw new Error('cutting a part failed')
      }
      return part.call(this, index)
    })
    const hit = await askWith(net, 'hit', stateVector([]))
    expect(failed).toBe(true)
    expect(hit.closed).toBe(4500)
    expect(errors).toEqual(['CONVERGE_INTERNAL 4500'])
    const good = await askWith(net, 'good', stateVector([]))
    expect(outcome(good.updates)).toEqual(outcome([Y.encodeStateAsUpdate(editor)]))
    await relay.destroy()
  })
})
