import { randomBytes } from 'node:crypto'
import { CloseCode } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { ADMIN_TOKEN, adminArgs, counter } from '../helpers/admin.js'
import { RawPeer } from '../helpers/raw-peer.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const KiB = 1024
const MiB = 1024 * KiB

/** An update of about `bytes` incompressible bytes (text from random bytes), from a fresh client. */
const incompressible = (bytes: number): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, randomBytes(bytes / 2).toString('hex'))
  return Y.encodeStateAsUpdate(doc)
}

const storedBytes = async (relay: RelayProcess, doc: string) => {
  const res = await fetch(`${relay.httpUrl}/api/docs/${doc}/update`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  return (await res.arrayBuffer()).byteLength
}

/** Sends updates one after another on `peer`, each once the relay stored the one before (or until it closes). */
const writeUntilClosed = async (relay: RelayProcess, peer: RawPeer, doc: (i: number) => string, count: number) => {
  for (let i = 0; i < count && peer.closed === undefined; i++) {
    const update = incompressible(300 * KiB)
    const before = await storedBytes(relay, doc(i))
    peer.send({ type: 'update', doc: doc(i), update })
    await waitFor(async () => peer.closed !== undefined || (await storedBytes(relay, doc(i))) > before, {
      what: `update ${i} to be stored or refused`,
    })
  }
  return peer.whenClosed()
}

describe('documents have bounds', () => {
  it('updates past maxDocBytes are refused with 4513 (an error frame first on converge.v1), on both framings, and the document keeps serving', async () => {
    const relay = await RelayProcess.start({ extraArgs: [...adminArgs, '--max-doc-bytes', String(1 * MiB)] })
    cleanup.push(() => relay.dispose())
    const mux = await RawPeer.mux(relay.url)
    const closed = await writeUntilClosed(relay, mux, () => 'big', 6)
    expect(closed.code).toBe(CloseCode.limitExceeded)
    expect(
      mux.received.some(
        (m) => m.type === 'error' && m.code === 'CONVERGE_LIMIT_EXCEEDED' && /maxDocBytes/.test(m.message),
      ),
    ).toBe(true)
    const yws = await RawPeer.yws(relay.url, 'big')
    expect((await writeUntilClosed(relay, yws, () => 'big', 3)).code).toBe(CloseCode.limitExceeded)
    expect(await storedBytes(relay, 'big')).toBeLessThanOrEqual(1 * MiB)
    expect(
      await counter(relay, 'converge_errors_total', (l) => l.includes('CONVERGE_LIMIT_EXCEEDED')),
    ).toBeGreaterThanOrEqual(2)
    // Readers still get the document; another document is not affected.
    const doc = new Y.Doc()
    const reader = new WebsocketProvider(relay.url, 'big', doc, { WebSocketPolyfill: WebSocket as never })
    cleanup.push(() => {
      reader.destroy()
      doc.destroy()
    })
    await waitFor(() => doc.getText('text').length > 500 * KiB, { what: 'a reader to load the document' })
    const other = await RawPeer.mux(relay.url)
    other.send({ type: 'update', doc: 'small', update: incompressible(10 * KiB) })
    await waitFor(async () => (await storedBytes(relay, 'small')) > 10 * KiB, {
      what: 'another document to take writes',
    })
  })

  it('one connection writing past maxUpdateBytesPerConnection is closed with 4513, on both framings, whatever documents it writes', async () => {
    const relay = await RelayProcess.start({
      extraArgs: [...adminArgs, '--max-update-bytes-per-connection', String(1 * MiB)],
    })
    cleanup.push(() => relay.dispose())
    const mux = await RawPeer.mux(relay.url)
    const closed = await writeUntilClosed(relay, mux, (i) => `doc-${i}`, 6)
    expect(closed.code).toBe(CloseCode.limitExceeded)
    expect(mux.received.some((m) => m.type === 'error' && /maxUpdateBytesPerConnection/.test(m.message))).toBe(true)
    const yws = await RawPeer.yws(relay.url, 'doc-y')
    expect((await writeUntilClosed(relay, yws, () => 'doc-y', 6)).code).toBe(CloseCode.limitExceeded)
    // A new connection starts with a new quota.
    const again = await RawPeer.mux(relay.url)
    again.send({ type: 'update', doc: 'doc-z', update: incompressible(10 * KiB) })
    await waitFor(async () => (await storedBytes(relay, 'doc-z')) > 10 * KiB, { what: 'a new connection to write' })
  })
})
