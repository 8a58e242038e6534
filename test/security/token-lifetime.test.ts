import { createHmac } from 'node:crypto'
import { CloseCode, MemoryStore, Replica } from '@converge/core'
import { Relay, signToken, type TokenClaims } from '@converge/relay'
import { websocket } from '@converge/websocket'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { tempDir } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import {
  after,
  connect,
  hello,
  httpUrl,
  refusal,
  SECRET,
  startRelay,
  stockClient,
  unauthorizedAtOnce,
} from './harness.js'

// Item 6: tokens must stop working when they expire or are revoked, on live connections
// too; they must expire at all; keys must rotate; and no log line may carry one.

const ADMIN = 'admin-token-for-the-security-tests'
const all: TokenClaims = { docs: ['**'], mode: 'write' }

const textOf = async (relay: Relay, doc: string) => {
  const d = new Y.Doc()
  Y.applyUpdate(d, await relay.replica.encodeState(doc))
  return d.getText('t').toString()
}

const revoke = async (relay: Relay, body: Record<string, string>) => {
  const res = await fetch(`${httpUrl(relay)}/api/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(201)
}

const converge = (relay: Relay, token: string | (() => string)) => {
  const replica = new Replica()
  after(() => replica.destroy())
  const peer = replica.connect(websocket(relay.url), { token, backoff: { initialDelay: 20, maxDelay: 100 } })
  return { replica, peer }
}

describe('tokens that never expire or live too long', () => {
  it('a token without exp is refused on both framings', async () => {
    const relay = await startRelay({ authSecret: SECRET })
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const unsigned = `${part({ alg: 'HS256' })}.${part({ docs: ['**'], mode: 'write' })}`
    const forever = `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`
    expect(refusal(await connect(`${relay.url}/d?token=${forever}`))).toEqual(unauthorizedAtOnce)
    expect((await connect(relay.url, { hello: hello(forever), waitClose: true })).close).toBe(CloseCode.unauthorized)
  })

  it('a token living longer than maxTokenTtl is refused', async () => {
    const relay = await startRelay({ authSecret: SECRET, maxTokenTtl: 3600 })
    expect(refusal(await connect(`${relay.url}/d?token=${await signToken(SECRET, all, '2h')}`))).toEqual(
      unauthorizedAtOnce,
    )
    expect((await connect(`${relay.url}/d?token=${await signToken(SECRET, all, '30m')}`)).status).toBe(101)
  })

  it('a secret under 32 bytes is refused by the relay and by signToken', async () => {
    await expect(
      Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger: false, authSecret: 'x' }),
    ).rejects.toThrow(/32 bytes/)
    await expect(
      Relay.start({ host: '127.0.0.1', port: 0, store: new MemoryStore(), logger: false, authKeys: { k1: 'short' } }),
    ).rejects.toThrow(/32 bytes/)
    await expect(signToken('short', all)).rejects.toThrow(/32 bytes/)
  })
})

describe('key rotation by kid', () => {
  it('tokens of every active key id are accepted; an unknown or retired kid is refused', async () => {
    const k1 = `${SECRET}-one`
    const k2 = `${SECRET}-two`
    const relay = await startRelay({ authKeys: { k1, k2 } })
    const t1 = await signToken(k1, all, '10m', { kid: 'k1' })
    const t2 = await signToken(k2, all, '10m', { kid: 'k2' })
    expect((await connect(`${relay.url}/d?token=${t1}`)).status).toBe(101)
    expect((await connect(`${relay.url}/d?token=${t2}`)).status).toBe(101)
    expect(refusal(await connect(`${relay.url}/d?token=${await signToken(k1, all, '10m', { kid: 'k9' })}`))).toEqual(
      unauthorizedAtOnce,
    )
    // Signed with k2's secret but claiming k1: the signature does not verify.
    expect(refusal(await connect(`${relay.url}/d?token=${await signToken(k2, all, '10m', { kid: 'k1' })}`))).toEqual(
      unauthorizedAtOnce,
    )
    // No kid and no --auth-secret: refused.
    expect(refusal(await connect(`${relay.url}/d?token=${await signToken(k1, all)}`))).toEqual(unauthorizedAtOnce)
    const retired = await startRelay({ authKeys: { k2 } })
    expect((await connect(retired.url, { hello: hello(t1), waitClose: true })).close).toBe(CloseCode.unauthorized)
    expect((await connect(`${retired.url}/d?token=${t2}`)).status).toBe(101)
  })
})

describe('a connection outliving its token', () => {
  it('a y-websocket connection is closed with 4001 at expiry; a stock client reconnects with fresh params', async () => {
    const relay = await startRelay({ authSecret: SECRET })
    const { doc, provider } = stockClient(relay.url, 'expiring', { params: { token: await signToken(SECRET, all, 2) } })
    await waitFor(() => provider.synced, { what: 'the stock client to sync' })
    const closes: number[] = []
    provider.on('connection-close', (event) => {
      closes.push(event?.code ?? 0)
      // The app's token refresh: y-websocket reads `params` again for its next connection.
      signToken(SECRET, all, '10m').then((token) => {
        provider.params = { token }
      })
    })
    await waitFor(() => closes.length > 0, { timeout: 6000, what: 'the expiry close' })
    expect(closes[0]).toBe(CloseCode.tokenExpired)
    await waitFor(() => provider.wsconnected, { what: 'the stock client to reconnect' })
    doc.getText('t').insert(0, 'after refresh')
    await waitFor(async () => (await textOf(relay, 'expiring')) === 'after refresh', { what: 'the edit to persist' })
  })

  it('a converge.v1 connection is closed with 4401 after the grace, unless it refreshed its token in a new hello', async () => {
    const relay = await startRelay({ authSecret: SECRET, tokenRefreshGrace: 300 })
    const stale = converge(relay, await signToken(SECRET, all, 2))
    let fresh = await signToken(SECRET, all, 2)
    const refreshing = converge(relay, () => fresh)
    await refreshing.replica.open('kept')
    await waitFor(() => stale.peer.status === 'open' && refreshing.peer.status === 'open', { what: 'both to open' })
    fresh = await signToken(SECRET, all, '10m')
    refreshing.peer.refreshToken()
    await waitFor(() => stale.peer.status === 'closed', { timeout: 6000, what: 'the stale connection to close' })
    expect(stale.peer.lastClose?.code).toBe(CloseCode.unauthorized)
    const doc = await refreshing.replica.open('kept')
    doc.getText('t').insert(0, 'still writing')
    await refreshing.replica.whenSaved('kept', { timeout: 5000 })
    expect(refreshing.peer.status).toBe('open')
  })
})

describe('revocation', () => {
  it('revoking a token through the admin API closes its live connections at once, on both framings', async () => {
    const relay = await startRelay({ authSecret: SECRET, adminToken: ADMIN })
    const token = await signToken(SECRET, all, '10m', { jti: 'leaked-1' })
    const other = await signToken(SECRET, all, '10m')
    const { provider } = stockClient(relay.url, 'r', { params: { token } })
    const stockCloses: number[] = []
    provider.on('connection-close', (event) => stockCloses.push(event?.code ?? 0))
    const mux = converge(relay, token)
    const bystander = converge(relay, other)
    await waitFor(() => provider.synced && mux.peer.status === 'open' && bystander.peer.status === 'open', {
      what: 'everyone to connect',
    })
    await revoke(relay, { jti: 'leaked-1' })
    await waitFor(() => mux.peer.status === 'closed' && stockCloses.length > 0, {
      what: 'the revoked connections to close',
    })
    expect(mux.peer.lastClose?.code).toBe(CloseCode.unauthorized)
    expect(stockCloses[0]).toBe(CloseCode.unauthorized)
    expect(bystander.peer.status).toBe('open')
    expect(refusal(await connect(`${relay.url}/r?token=${token}`))).toEqual(unauthorizedAtOnce)
  })

  it('revoking a subject refuses its earlier tokens, not later ones; the list survives a restart', async () => {
    const data = await tempDir('revocations')
    const options = { host: '127.0.0.1', port: 0, data, logger: false as const, authSecret: SECRET, adminToken: ADMIN }
    const relay = await Relay.start(options)
    after(() => relay.stop())
    const early = await signToken(SECRET, { ...all, sub: 'mallory' }, '10m')
    await revoke(relay, { sub: 'mallory' })
    expect(refusal(await connect(`${relay.url}/d?token=${early}`))).toEqual(unauthorizedAtOnce)
    await relay.stop()
    const again = await Relay.start(options)
    after(() => again.stop())
    expect(refusal(await connect(`${again.url}/d?token=${early}`))).toEqual(unauthorizedAtOnce)
    await new Promise((r) => setTimeout(r, 1100)) // iat has a one-second resolution
    const later = await signToken(SECRET, { ...all, sub: 'mallory' }, '10m')
    expect((await connect(`${again.url}/d?token=${later}`)).status).toBe(101)
    const list = await fetch(`${httpUrl(again)}/api/revocations`, { headers: { authorization: `Bearer ${ADMIN}` } })
    expect(((await list.json()) as { revocations: unknown[] }).revocations).toHaveLength(1)
  })
})
