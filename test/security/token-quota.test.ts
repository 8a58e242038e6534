import { randomBytes } from 'node:crypto'
import { CloseCode } from '@converge/core'
import { type Relay, signToken, type TokenClaims } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RawPeer } from '../helpers/raw-peer.js'
import { waitFor } from '../helpers/wait.js'
import { SECRET, startRelay } from './harness.js'

// Item 10: a per-token byte quota, shared by every connection of the token on the relay,
// so a token cannot write past its budget by opening more connections.

const KiB = 1024
const all: TokenClaims = { docs: ['**'], mode: 'write' }

/** An update of about `bytes` incompressible bytes, from a fresh client. */
const incompressible = (bytes: number): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, randomBytes(bytes / 2).toString('hex'))
  return Y.encodeStateAsUpdate(doc)
}

const stored = async (relay: Relay, doc: string) => (await relay.replica.store.load(doc))?.length ?? 0

describe('a per-token byte quota', () => {
  it('two connections of one token, one per framing, share maxUpdateBytesPerToken: past it each is closed with 4513, while another token still writes', async () => {
    const relay = await startRelay({ authSecret: SECRET, maxUpdateBytesPerToken: 100 * KiB })
    const token = await signToken(SECRET, all, '1h', { jti: 'shared' })
    const mux = await RawPeer.mux(relay.url, { token })
    const yws = await RawPeer.yws(relay.url, 'doc-y', token)

    // 60 KiB on each connection: each under the quota alone, over it together.
    mux.send({ type: 'update', doc: 'doc-m', update: incompressible(60 * KiB) })
    await waitFor(async () => (await stored(relay, 'doc-m')) > 60 * KiB, { what: 'the first write to be stored' })
    yws.send({ type: 'update', doc: 'doc-y', update: incompressible(60 * KiB) })
    expect((await yws.whenClosed()).code).toBe(CloseCode.limitExceeded)
    expect(await stored(relay, 'doc-y')).toBe(0)

    // The token's other connection is over the quota too: its next write closes it.
    mux.send({ type: 'update', doc: 'doc-m2', update: incompressible(2 * KiB) })
    expect((await mux.whenClosed()).code).toBe(CloseCode.limitExceeded)
    expect(
      mux.received.some(
        (m) => m.type === 'error' && m.code === 'CONVERGE_LIMIT_EXCEEDED' && /maxUpdateBytesPerToken/.test(m.message),
      ),
    ).toBe(true)
    expect(await stored(relay, 'doc-m2')).toBe(0)

    // A new connection of the same token starts with no new budget; another token has its own.
    const again = await RawPeer.mux(relay.url, { token })
    again.send({ type: 'update', doc: 'doc-m3', update: incompressible(2 * KiB) })
    expect((await again.whenClosed()).code).toBe(CloseCode.limitExceeded)
    const other = await RawPeer.mux(relay.url, { token: await signToken(SECRET, all, '1h', { jti: 'other' }) })
    other.send({ type: 'update', doc: 'doc-o', update: incompressible(60 * KiB) })
    await waitFor(async () => (await stored(relay, 'doc-o')) > 60 * KiB, { what: 'another token to write' })
    expect(other.closed).toBeUndefined()
    other.close()
  })
})
