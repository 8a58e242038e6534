/**
 * Encode once, send many (broadcast.ts): a relay hands every socket of one framing the
 * same bytes for a broadcast update or presence change, encoded once per framing.
 */
import { Replica } from '@converge/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { MemoryNetwork } from '../../packages/core/src/memory-network.js'
import type { Message } from '../../packages/core/src/messages.js'
import { decodeMuxFrame, encodeMuxFrame } from '../../packages/core/src/mux-codec.js'
import type { Transport } from '../../packages/core/src/transport.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from '../../packages/core/src/y-websocket-codec.js'
import { waitFor } from '../helpers/wait.js'

/** Every encode call, by framing and message type. */
const encodes = vi.hoisted(() => ({ calls: [] as Array<{ framing: string; type: string }> }))

vi.mock('../../packages/core/src/mux-codec.js', async (original) => {
  const real = await original<typeof import('../../packages/core/src/mux-codec.js')>()
  return {
    ...real,
    encodeMuxFrame: (m: Message) => {
      encodes.calls.push({ framing: 'converge.v1', type: m.type })
      return real.encodeMuxFrame(m)
    },
  }
})
vi.mock('../../packages/core/src/y-websocket-codec.js', async (original) => {
  const real = await original<typeof import('../../packages/core/src/y-websocket-codec.js')>()
  return {
    ...real,
    encodeYWebsocketFrame: (m: Parameters<typeof real.encodeYWebsocketFrame>[0]) => {
      encodes.calls.push({ framing: 'y-websocket', type: m.type })
      return real.encodeYWebsocketFrame(m)
    },
  }
})

const DOC = 'doc'
const READERS_PER_FRAMING = 3
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

type FramingName = 'converge.v1' | 'y-websocket'

/** The frames the relay handed to each accepted transport, by reader. */
const recordSends = (t: Transport, into: Uint8Array[]): Transport => {
  const send = t.send.bind(t)
  t.send = (data) => {
    into.push(data)
    send(data)
  }
  return t
}

const decode = (framing: FramingName, frame: Uint8Array): Message =>
  framing === 'converge.v1' ? decodeMuxFrame(frame) : decodeYWebsocketFrame(frame, DOC)

/** A relay with readers on both framings, each reader's received frames recorded on the relay side. */
const setup = async () => {
  const net = new MemoryNetwork()
  const relay = new Replica({ role: 'relay', peerId: 'relay', awarenessCoalesceMs: 0 })
  const sent = new Map<string, { framing: FramingName; frames: Uint8Array[] }>()
  for (const framing of ['converge.v1', 'y-websocket'] as const) {
    net.listen(framing, (t) => {
      const frames: Uint8Array[] = []
      sent.set(t.description ?? '', { framing, frames })
      relay.accept(recordSends(t, frames), framing === 'converge.v1' ? {} : { framing: { yWebsocketDoc: DOC } })
    })
  }
  const readers: Replica[] = []
  const docs: Y.Doc[] = []
  for (const framing of ['converge.v1', 'y-websocket'] as const) {
    for (let i = 0; i < READERS_PER_FRAMING; i++) {
      const r = new Replica({ peerId: `${framing}-${i}` })
      docs.push(await r.open(DOC))
      r.connect(
        net.connector(framing, `${framing}-${i}`),
        framing === 'converge.v1' ? {} : { framing: { yWebsocketDoc: DOC } },
      )
      readers.push(r)
    }
  }
  for (const r of readers) await r.whenSynced(DOC, { timeout: 10_000 })
  cleanups.push(async () => {
    for (const r of readers) await r.destroy()
    await relay.destroy()
  })
  return { net, relay, readers, docs, sent }
}

/** The frames of `type` each reader got since `from` (frame counts per reader), by framing. */
const framesOf = (
  sent: Awaited<ReturnType<typeof setup>>['sent'],
  type: Message['type'],
  from: Map<string, number>,
) => {
  const byFraming = new Map<FramingName, Uint8Array[]>()
  for (const [reader, { framing, frames }] of sent) {
    const mine = frames.slice(from.get(reader) ?? 0).filter((f) => decode(framing, f).type === type)
    expect(mine, `${reader} got one ${type} frame`).toHaveLength(1)
    byFraming.set(framing, [...(byFraming.get(framing) ?? []), ...mine])
  }
  return byFraming
}

const marks = (sent: Awaited<ReturnType<typeof setup>>['sent']) =>
  new Map([...sent].map(([reader, { frames }]) => [reader, frames.length]))

const encodeCounts = (type: string) => {
  const counts = { 'converge.v1': 0, 'y-websocket': 0 }
  for (const c of encodes.calls) if (c.type === type) counts[c.framing as FramingName]++
  return counts
}

describe('encode once, send many', () => {
  it('a broadcast update is encoded once per framing, and every reader of a framing gets the same bytes as one encoding', async () => {
    const { net, relay, docs, sent } = await setup()
    await waitFor(() => net.inFlight === 0)
    const before = marks(sent)
    encodes.calls.length = 0

    // A server-side write: the relay's own forwards are then the only update frames encoded.
    const source = new Y.Doc()
    source.getText('t').insert(0, 'hello')
    await relay.applyUpdate(DOC, Y.encodeStateAsUpdate(source))
    await waitFor(() => docs.every((d) => d.getText('t').toString() === 'hello'))

    expect(encodeCounts('update')).toEqual({ 'converge.v1': 1, 'y-websocket': 1 })
    const byFraming = framesOf(sent, 'update', before)
    for (const [framing, frames] of byFraming) {
      expect(frames).toHaveLength(READERS_PER_FRAMING)
      // The very same bytes object for every reader of the framing...
      for (const f of frames) expect(f).toBe(frames[0])
      // ...equal to one encoding of the message.
      const m = decode(framing, frames[0] as Uint8Array)
      const once =
        framing === 'converge.v1'
          ? encodeMuxFrame(m)
          : encodeYWebsocketFrame(m as Parameters<typeof encodeYWebsocketFrame>[0])
      expect(frames[0]).toEqual(once)
    }
  })

  it('a presence change is encoded once per framing for all readers, and each reader sees the same state', async () => {
    const { net, readers, sent } = await setup()
    const writer = readers[0] as Replica
    writer.awareness(DOC).setLocalStateField('cursor', 1)
    await waitFor(() =>
      readers.every((r) => r.awareness(DOC).getStates().has(writer.awareness(DOC).clientID) || r === writer),
    )
    await waitFor(() => net.inFlight === 0)
    const before = marks(sent)
    encodes.calls.length = 0

    writer.awareness(DOC).setLocalStateField('cursor', 42)
    const id = writer.awareness(DOC).clientID
    await waitFor(() =>
      readers.every(
        (r) => r === writer || (r.awareness(DOC).getStates().get(id) as { cursor?: number })?.cursor === 42,
      ),
    )

    // The writer's own send (converge.v1) and the relay's one broadcast per framing.
    expect(encodeCounts('awareness')).toEqual({ 'converge.v1': 2, 'y-websocket': 1 })
    const others = new Map([...sent].filter(([reader]) => !reader.endsWith('converge.v1-0')))
    const byFraming = framesOf(others, 'awareness', before)
    for (const frames of byFraming.values()) for (const f of frames) expect(f).toBe(frames[0])
  })
})
