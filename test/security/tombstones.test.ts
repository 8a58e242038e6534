import { CloseCode } from '@converge/core'
import { websocket } from '@converge/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ADMIN_TOKEN, adminArgs, relayDoc } from '../helpers/admin.js'
import { RawPeer } from '../helpers/raw-peer.js'
import { freePort, RelayProcess } from '../helpers/relay-process.js'
import { nodeReplica } from '../helpers/replicas.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const admin = (relay: RelayProcess, method: string, path: string) =>
  fetch(`${relay.httpUrl}/api/docs/${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then(
    async (res) => {
      await res.arrayBuffer()
      return res.status
    },
  )

const stockClient = (url: string, room: string) => stockProvider(cleanup, url, room, { maxBackoffTime: 200 })

const secretState = () => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, 'secret')
  return Y.encodeStateAsUpdate(doc)
}

describe('deletes win', () => {
  it('a deleted document stays deleted: connected clients are told (4410, error frame), full-state updates on both framings and an offline store reconnecting do not bring it back, until it is recreated', async () => {
    const relay = await RelayProcess.start({ extraArgs: adminArgs })
    cleanup.push(() => relay.dispose())
    const stock = stockClient(relay.url, 'gdpr')
    stock.doc.getText('text').insert(0, 'secret')
    const online = await nodeReplica(relay.url)
    cleanup.push(() => online.dispose())
    const errors: string[] = []
    online.replica.on('error', (err) => errors.push(String((err as { code?: string }).code)))
    const odoc = await online.replica.open('gdpr')
    await waitFor(() => odoc.getText('text').toString() === 'secret', { what: 'the converge client to sync' })
    // An offline browser-like store that holds the document and reconnects later.
    const offline = await nodeReplica(undefined)
    cleanup.push(() => offline.dispose())
    const offDoc = await offline.replica.open('gdpr')
    Y.applyUpdate(offDoc, secretState())
    await waitFor(async () => (await offline.store.load('gdpr')) !== undefined, {
      what: 'the offline copy to be stored',
    })

    expect(await admin(relay, 'DELETE', 'gdpr')).toBe(204)
    expect(await admin(relay, 'GET', 'gdpr')).toBe(410)
    // The stock client is closed with 4410, after which y-websocket 3.x does not reconnect.
    await waitFor(() => !stock.provider.wsconnected, { what: 'the stock client to be closed' })
    // The converge client is told, and erases its local copy.
    await waitFor(() => errors.includes('CONVERGE_DOC_DELETED'), { what: 'the converge client to be told' })
    await waitFor(async () => (await online.store.load('gdpr')) === undefined, { what: 'the local copy to go' })

    // A full-state update on either framing changes nothing.
    const yws = await RawPeer.yws(relay.url, 'gdpr')
    yws.send({ type: 'update', doc: 'gdpr', update: secretState() })
    expect((await yws.whenClosed()).code).toBe(CloseCode.gone)
    const mux = await RawPeer.mux(relay.url)
    mux.send({ type: 'subscribe', doc: 'gdpr' })
    mux.send({ type: 'update', doc: 'gdpr', update: secretState() })
    const refusal = await mux.until((m) => m.type === 'error', 'the refusal')
    expect(refusal).toMatchObject({ code: 'CONVERGE_DOC_DELETED', doc: 'gdpr' })
    // The offline store reconnects: it is told, erases its copy, and sends nothing.
    const offErrors: string[] = []
    offline.replica.on('error', (err) => offErrors.push(String((err as { code?: string }).code)))
    offline.replica.connect(websocket(relay.url))
    await waitFor(() => offErrors.includes('CONVERGE_DOC_DELETED'), { what: 'the offline store to be told' })
    await waitFor(async () => (await offline.store.load('gdpr')) === undefined, { what: 'the offline copy to go' })
    expect(await admin(relay, 'GET', 'gdpr')).toBe(410)

    // Recreated deliberately, the name starts empty.
    expect(await admin(relay, 'POST', 'gdpr/recreate')).toBe(204)
    const fresh = await RawPeer.mux(relay.url)
    const doc = new Y.Doc()
    doc.getText('text').insert(0, 'fresh')
    fresh.send({ type: 'update', doc: 'gdpr', update: Y.encodeStateAsUpdate(doc) })
    await waitFor(async () => (await relayDoc(relay, 'gdpr')).getText('text').toString() === 'fresh', {
      what: 'the recreated document to take writes',
    })
  })

  it('a delete on one relay replicates through the mesh: the other relay erases the document and refuses writes to it', async () => {
    const [portA, portB] = [await freePort(), await freePort()]
    // An open mesh on a trusted network (the relay role needs no token then).
    const meshArgs = [...adminArgs, '--allow-unauthenticated-relays']
    const a = await RelayProcess.start({ port: portA, peers: [`ws://127.0.0.1:${portB}`], extraArgs: meshArgs })
    cleanup.push(() => a.dispose())
    const b = await RelayProcess.start({ port: portB, peers: [`ws://127.0.0.1:${portA}`], extraArgs: meshArgs })
    cleanup.push(() => b.dispose())
    const writer = await RawPeer.mux(a.url)
    writer.send({ type: 'update', doc: 'meshed', update: secretState() })
    await waitFor(async () => (await relayDoc(b, 'meshed')).getText('text').toString() === 'secret', {
      what: 'the document to reach relay B',
    })
    expect(await admin(a, 'DELETE', 'meshed')).toBe(204)
    await waitFor(async () => (await admin(b, 'GET', 'meshed')) === 410, { what: 'relay B to honour the tombstone' })
    // One write on B does not bring it back, on B or on A.
    const onB = await RawPeer.mux(b.url)
    onB.send({ type: 'subscribe', doc: 'meshed' })
    onB.send({ type: 'update', doc: 'meshed', update: secretState() })
    expect(await onB.until((m) => m.type === 'error', 'the refusal')).toMatchObject({ code: 'CONVERGE_DOC_DELETED' })
    expect(await admin(a, 'GET', 'meshed')).toBe(410)
    expect(await admin(b, 'GET', 'meshed')).toBe(410)
    const names = (await (
      await fetch(`${b.httpUrl}/api/docs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as {
      docs: string[]
    }
    expect(names.docs).not.toContain('meshed')
  })
})
