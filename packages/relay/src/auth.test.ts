import { CloseCode, encodeMuxFrame, MemoryStore, MUX_PROTOCOL, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { compileDocPattern } from './doc-pattern.js'
import { Relay } from './relay.js'
import { accessOf, signToken, verifyToken } from './tokens.js'

const SECRET = 'test-secret-of-at-least-32-bytes!'
const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const startRelay = async (options: Parameters<typeof Relay.start>[0] = {}) => {
  const relay = await Relay.start({
    host: '127.0.0.1',
    port: 0,
    store: new MemoryStore(),
    logger: false,
    authSecret: SECRET,
    ...options,
  })
  cleanup.push(() => relay.stop())
  return relay
}

const clientOf = (relay: Relay, token: string) => {
  const replica = new Replica()
  const peer = replica.connect(websocket(relay.url), { token, backoff: { initialDelay: 20, maxDelay: 100 } })
  cleanup.push(() => replica.destroy())
  return { replica, peer }
}

/** Resolves with the close code the relay sends a y-websocket socket, or 101 when it stays open after syncing. */
const upgradeStatus = (url: string) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(url)
    ws.on('message', () => {
      // The relay's sync step 1: the document is served.
      ws.close()
      resolve(101)
    })
    ws.on('close', (code) => resolve(code))
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => undefined)
  })

describe('document patterns', () => {
  it('* stays within a path segment, ** crosses segments, the rest is literal', () => {
    const one = compileDocPattern('team-a/*')
    expect(one.test('team-a/notes')).toBe(true)
    expect(one.test('team-a/x/y')).toBe(false)
    expect(one.test('team-b/notes')).toBe(false)
    expect(compileDocPattern('**').test('any/thing/at/all')).toBe(true)
    expect(compileDocPattern('a.b').test('axb')).toBe(false)
  })
})

describe('tokens', () => {
  it('a token verifies with its secret only, and carries its grant', async () => {
    const token = await signToken(SECRET, { docs: ['team-a/*'], mode: 'read', sub: 'ada' })
    const claims = await verifyToken(token, SECRET)
    expect(claims).toMatchObject({ docs: ['team-a/*'], mode: 'read', relay: false, sub: 'ada' })
    const access = accessOf(claims)
    expect(access.canRead('team-a/x')).toBe(true)
    expect(access.canWrite('team-a/x')).toBe(false)
    await expect(verifyToken(token, 'another-secret-of-at-least-32-bytes')).rejects.toMatchObject({
      code: 'CONVERGE_AUTH_DENIED',
    })
    await expect(verifyToken('', SECRET)).rejects.toMatchObject({ code: 'CONVERGE_AUTH_DENIED' })
  })

  it('an expired token is refused', async () => {
    const token = await signToken(SECRET, { docs: ['**'], mode: 'write' }, -10)
    await expect(verifyToken(token, SECRET)).rejects.toMatchObject({
      code: 'CONVERGE_AUTH_DENIED',
      message: 'token expired',
    })
  })
})

describe('a relay with --auth-secret', () => {
  it('closes y-websocket sockets without a valid token with 4401 and for a document not granted with 4403 (codes stock clients do not retry)', async () => {
    const relay = await startRelay()
    const token = await signToken(SECRET, { docs: ['team-a/*'], mode: 'write' })
    expect(await upgradeStatus(`${relay.url}/team-a/notes`)).toBe(CloseCode.unauthorized)
    expect(await upgradeStatus(`${relay.url}/team-a/notes?token=garbage`)).toBe(CloseCode.unauthorized)
    expect(await upgradeStatus(`${relay.url}/team-b/notes?token=${token}`)).toBe(CloseCode.forbidden)
    expect(await upgradeStatus(`${relay.url}/team-a/notes?token=${token}`)).toBe(101)
  })

  it('closes a converge peer without a valid token with 4401, and the peer stops retrying', async () => {
    const relay = await startRelay()
    const { peer } = clientOf(relay, 'not-a-token')
    await expect.poll(() => peer.status, { timeout: 5000 }).toBe('closed')
    expect(peer.lastClose?.code).toBe(CloseCode.unauthorized)
  })

  it('a read token reads its documents, never changes them, and is refused the others', async () => {
    const relay = await startRelay()
    const writer = clientOf(relay, await signToken(SECRET, { docs: ['**'], mode: 'write' }))
    const reader = clientOf(relay, await signToken(SECRET, { docs: ['team-a/*'], mode: 'read' }))
    const refusals: string[] = []
    reader.replica.on('error', (err) => refusals.push((err as Error).message))
    const dw = await writer.replica.open('team-a/notes')
    dw.getText('t').insert(0, 'written')
    await writer.replica.whenSaved('team-a/notes', { timeout: 5000 })
    const dr = await reader.replica.open('team-a/notes')
    await expect.poll(() => dr.getText('t').toString(), { timeout: 5000 }).toBe('written')
    dr.getText('t').insert(0, 'not allowed ')
    await reader.replica.open('team-b/secret')
    await expect.poll(() => refusals.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2)
    expect(reader.peer.lastClose).toBeUndefined()
    expect(reader.peer.status).toBe('open')
    const stored = new Y.Doc()
    Y.applyUpdate(stored, await relay.replica.encodeState('team-a/notes'))
    expect(stored.getText('t').toString()).toBe('written')
    expect((await relay.store.list()).includes('team-b/secret')).toBe(false)
  })

  it('admits a relay to the mesh only with a token that has the relay claim', async () => {
    const relay = await startRelay()
    const clientToken = await signToken(SECRET, { docs: ['**'], mode: 'write' })
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(relay.url, [MUX_PROTOCOL])
      ws.on('open', () =>
        ws.send(encodeMuxFrame({ type: 'hello', version: 1, peerId: 'x', role: 'relay', token: clientToken })),
      )
      ws.on('close', (c) => resolve(c))
      ws.on('error', () => undefined)
    })
    expect(code).toBe(CloseCode.forbidden)

    const peerToken = await signToken(SECRET, { docs: ['**'], mode: 'write', relay: true })
    const other = await startRelay({ peers: [relay.url], peerToken })
    const client = clientOf(other, clientToken)
    const doc = await client.replica.open('meshed')
    doc.getText('t').insert(0, 'through the mesh')
    await client.replica.whenSaved('meshed', { timeout: 5000 })
    await expect
      .poll(
        async () => {
          const d = new Y.Doc()
          Y.applyUpdate(d, await relay.replica.encodeState('meshed'))
          return d.getText('t').toString()
        },
        { timeout: 10_000 },
      )
      .toBe('through the mesh')
  })
})
