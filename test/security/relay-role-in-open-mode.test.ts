import { CloseCode, decodeMuxFrame, Replica } from '@converge/core'
import { signToken } from '@converge/relay'
import { websocket } from '@converge/websocket'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { waitFor } from '../helpers/wait.js'
import { after, connect, hello, SECRET, startRelay } from './harness.js'

// Item 2: on a relay without --auth-secret, a client that says `role: relay` in its hello
// would be exempt from the rate and document limits and receive the whole inventory.

describe('the relay role on a relay without auth', () => {
  it('a client claiming the relay role is refused with 4403 and receives no inventory', async () => {
    const relay = await startRelay()
    await relay.replica.applyUpdate('secret-doc', Y.encodeStateAsUpdate(docWith('secret')))
    const outcome = await connect(relay.url, { hello: hello('', 'relay'), waitClose: true })
    expect(outcome.close).toBe(CloseCode.forbidden)
    const types = (outcome.frames ?? []).map((f) => decodeMuxFrame(f).type)
    expect(types).toEqual(['error'])
  })

  it('a replica dialing as a relay is refused and stops retrying; as a client it syncs', async () => {
    const relay = await startRelay()
    const impostor = new Replica({ role: 'relay' })
    after(() => impostor.destroy())
    const peer = impostor.connect(websocket(relay.url))
    await waitFor(() => peer.status === 'closed', { what: 'the impostor relay to be refused' })
    expect(peer.lastClose?.code).toBe(CloseCode.forbidden)

    const client = new Replica()
    after(() => client.destroy())
    client.connect(websocket(relay.url))
    const doc = await client.open('doc')
    doc.getText('t').insert(0, 'ok')
    await client.whenSaved('doc', { timeout: 5000 })
  })

  it('--allow-unauthenticated-relays admits the relay role: two open relays form a mesh', async () => {
    const a = await startRelay({ allowUnauthenticatedRelays: true })
    const b = await startRelay({ peers: [a.url] })
    await b.replica.applyUpdate('meshed', Y.encodeStateAsUpdate(docWith('across')))
    await waitFor(async () => textOf(await a.replica.encodeState('meshed')) === 'across', {
      what: 'the document to cross the mesh',
    })
  })

  it('with --auth-secret, only a token with the relay claim grants the role', async () => {
    const relay = await startRelay({ authSecret: SECRET, allowUnauthenticatedRelays: true })
    const client = await signToken(SECRET, { docs: ['**'], mode: 'write' })
    const peer = await signToken(SECRET, { docs: ['**'], mode: 'write', relay: true })
    expect((await connect(relay.url, { hello: hello(client, 'relay'), waitClose: true })).close).toBe(
      CloseCode.forbidden,
    )
    expect((await connect(relay.url, { hello: hello('', 'relay'), waitClose: true })).close).toBe(
      CloseCode.unauthorized,
    )
    const accepted = await connect(relay.url, { hello: hello(peer, 'relay') })
    expect(accepted.close).not.toBe(CloseCode.forbidden)
    expect(accepted.close).not.toBe(CloseCode.unauthorized)
  })
})

const docWith = (text: string) => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return doc
}

const textOf = (update: Uint8Array) => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}
