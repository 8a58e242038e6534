import { CloseCode, type Message } from '@converge/core'
import { signToken } from '@converge/relay'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import { RawPeer } from '../helpers/raw-peer.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const SECRET = 'a-test-secret-of-at-least-32-bytes-long'
const token = (mode: 'read' | 'write', presence?: false) =>
  signToken(SECRET, { docs: ['**'], mode, ...(presence === false ? { presence } : {}) }, '1h')

const awarenessUpdate = (states: Array<[client: number, clock: number, state: unknown]>): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, states.length)
  for (const [client, clock, state] of states) {
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, clock)
    encoding.writeVarString(e, JSON.stringify(state))
  }
  return encoding.toUint8Array(e)
}

/** Every state in the awareness frames received from `from` on, latest per client. */
const statesIn = (messages: Message[]): Map<number, unknown> => {
  const states = new Map<number, unknown>()
  for (const m of messages) {
    if (m.type !== 'awareness') continue
    const d = decoding.createDecoder(m.update)
    const n = decoding.readVarUint(d)
    for (let i = 0; i < n; i++) {
      const client = decoding.readVarUint(d)
      decoding.readVarUint(d)
      states.set(client, JSON.parse(decoding.readVarString(d)))
    }
  }
  return states
}

/** Asks the relay for every presence it holds, on the attacker's own socket (so after its earlier frames). */
const presenceOnRelay = async (peer: RawPeer, doc: string): Promise<Map<number, unknown>> => {
  const from = peer.received.length
  peer.send({ type: 'query-awareness', doc })
  await peer.until((m) => m.type === 'awareness', 'the awareness answer', 10_000, from)
  return statesIn(peer.received.slice(from))
}

const startRelay = async () => {
  const relay = await RelayProcess.start({ extraArgs: ['--auth-secret', SECRET, '--log-level', 'info'] })
  cleanup.push(() => relay.dispose())
  return relay
}

const victimOn = async (relay: RelayProcess, room: string) => {
  const { doc, provider } = stockProvider(cleanup, relay.url, room, { params: { token: await token('write') } })
  provider.awareness.setLocalStateField('user', { name: 'victim' })
  return { doc, provider, id: doc.clientID }
}

describe('presence cannot be spoofed', () => {
  it("a read-only client cannot overwrite or remove another user's presence, on both framings", async () => {
    const relay = await startRelay()
    const victim = await victimOn(relay, 'room')
    const observer = await RawPeer.yws(relay.url, 'room', await token('read'))
    await waitFor(async () => (await presenceOnRelay(observer, 'room')).has(victim.id), { what: 'the victim presence' })

    const yws = await RawPeer.yws(relay.url, 'room', await token('read'))
    yws.send({
      type: 'awareness',
      doc: 'room',
      update: awarenessUpdate([[victim.id, 1000, { user: { name: 'evil' } }]]),
    })
    yws.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[victim.id, 1001, null]]) })
    expect((await presenceOnRelay(yws, 'room')).get(victim.id)).toEqual({ user: { name: 'victim' } })

    const mux = await RawPeer.mux(relay.url, { token: await token('read') })
    mux.send({ type: 'subscribe', doc: 'room' })
    mux.send({
      type: 'awareness',
      doc: 'room',
      update: awarenessUpdate([[victim.id, 2000, { user: { name: 'evil' } }]]),
    })
    mux.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[victim.id, 2001, null]]) })
    expect((await presenceOnRelay(mux, 'room')).get(victim.id)).toEqual({ user: { name: 'victim' } })
    expect(yws.closed).toBeUndefined()
    expect(mux.closed).toBeUndefined()

    // The victim's own updates still go through, and the attackers' presence of their own does too.
    victim.provider.awareness.setLocalStateField('user', { name: 'victim 2' })
    yws.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[4242, 1, { user: { name: 'reader' } }]]) })
    await waitFor(
      async () => {
        const states = await presenceOnRelay(observer, 'room')
        return JSON.stringify(states.get(victim.id)) === '{"user":{"name":"victim 2"}}' && states.has(4242)
      },
      { what: 'the victim update and the reader presence' },
    )
  })

  it('read-only tokens publish presence by default; a token with presence: false cannot, on both framings', async () => {
    const relay = await startRelay()
    const observer = await RawPeer.yws(relay.url, 'room', await token('read'))
    const silent = await RawPeer.yws(relay.url, 'room', await token('read', false))
    silent.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[5151, 1, { user: { name: 'silent' } }]]) })
    const mux = await RawPeer.mux(relay.url, { token: await token('read', false) })
    mux.send({ type: 'subscribe', doc: 'room' })
    mux.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[5252, 1, { user: { name: 'silent' } }]]) })
    const refusal = await mux.until((m) => m.type === 'error', 'the refusal')
    expect(refusal).toMatchObject({ code: 'CONVERGE_FORBIDDEN', doc: 'room' })
    const reader = await RawPeer.yws(relay.url, 'room', await token('read'))
    reader.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[5353, 1, { user: { name: 'reader' } }]]) })
    const states = await presenceOnRelay(silent, 'room')
    expect(states.has(5353)).toBe(true)
    expect(states.has(5151)).toBe(false)
    expect(states.has(5252)).toBe(false)
    observer.close()
  })
})

describe('awareness and error-frame floods are bounded', () => {
  it('an awareness state over 64 KiB, or more than 8 presence ids from one client, closes it with 4513, on both framings', async () => {
    const relay = await startRelay()
    const big = { blob: 'x'.repeat(100 * 1024) }
    const many = Array.from({ length: 20 }, (_, i): [number, number, unknown] => [9000 + i, 1, { i }])
    for (const update of [awarenessUpdate([[7001, 1, big]]), awarenessUpdate(many)]) {
      const yws = await RawPeer.yws(relay.url, 'room', await token('read'))
      yws.send({ type: 'awareness', doc: 'room', update })
      expect((await yws.whenClosed()).code).toBe(CloseCode.limitExceeded)
      const mux = await RawPeer.mux(relay.url, { token: await token('read') })
      mux.send({ type: 'awareness', doc: 'room', update })
      expect((await mux.whenClosed()).code).toBe(CloseCode.limitExceeded)
    }
    const observer = await RawPeer.yws(relay.url, 'room', await token('read'))
    observer.send({ type: 'awareness', doc: 'room', update: awarenessUpdate([[7777, 1, { user: 'observer' }]]) })
    const states = await presenceOnRelay(observer, 'room')
    expect([...states.keys()]).toEqual([7777])
  })

  it('ten 1 MiB error frames from a client add at most a few KiB to the log', async () => {
    const relay = await startRelay()
    const mux = await RawPeer.mux(relay.url, { token: await token('read') })
    const before = relay.output.length
    for (let i = 0; i < 10; i++)
      mux.send({ type: 'error', doc: '', code: 'X'.repeat(1024), message: 'y'.repeat(1024 * 1024) })
    const from = mux.received.length
    mux.send({ type: 'ping' })
    await mux.until((m) => m.type === 'pong', 'the pong after the error frames', 10_000, from)
    // Give the log stream a moment to flush what it was handed, then measure.
    await waitFor(() => relay.output.length > before, { what: 'the relay to log the errors', timeout: 5000 })
    expect(relay.output.length - before).toBeLessThan(16 * 1024)
  })
})
