import { signToken } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { waitFor } from '../helpers/wait.js'
import { SECRET, startRelay } from './harness.js'

// Item 11 for a mesh across organisations: a delete must reach a relay whose peer token
// is scoped to some documents (`docs`), and that relay must not delete anything on the
// relay that scoped it.

const textUpdate = (text: string) => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('tombstones and scoped relay tokens', () => {
  it('a relay whose peer token grants a/* learns of deletes on the hub (every tombstone, no content outside a/*) and cannot delete on the hub', async () => {
    const hub = await startRelay({ authSecret: SECRET })
    await hub.replica.applyUpdate('a/1', textUpdate('in scope'))
    await hub.replica.applyUpdate('b/1', textUpdate('out of scope'))
    await hub.replica.deleteDoc('a/1')
    const peerToken = await signToken(SECRET, { docs: ['a/*'], mode: 'write', relay: true })
    const scoped = await startRelay({ authSecret: SECRET, peers: [hub.url], peerToken })
    await waitFor(() => scoped.replica.isDeleted('a/1'), { what: 'the delete made before the link to arrive' })
    await hub.replica.applyUpdate('a/2', textUpdate('in scope'))
    await waitFor(async () => (await scoped.replica.store.load('a/2')) !== undefined, { what: 'a/2 to arrive' })
    await hub.replica.deleteDoc('a/2')
    await hub.replica.deleteDoc('b/1')
    await waitFor(() => scoped.replica.isDeleted('a/2') && scoped.replica.isDeleted('b/1'), {
      what: 'the deletes made while linked to arrive',
    })
    await waitFor(async () => (await scoped.replica.store.load('a/2')) === undefined, { what: 'a/2 to be erased' })
    expect(
      (await scoped.replica.store.list()).filter((d) => !d.startsWith('a/') && !d.startsWith('.converge/')),
    ).toEqual([])
    // The scoped relay's own deletes stay its own: the hub keeps its documents.
    await hub.replica.applyUpdate('b/2', textUpdate('out of scope'))
    await hub.replica.applyUpdate('a/3', textUpdate('in scope'))
    await waitFor(async () => (await scoped.replica.store.load('a/3')) !== undefined, { what: 'a/3 to arrive' })
    await scoped.replica.deleteDoc('b/2')
    await scoped.replica.deleteDoc('a/3')
    // A later delete on the hub still arrives: the link carried the scoped relay's attempt and went on.
    await hub.replica.deleteDoc('a/4')
    await waitFor(() => scoped.replica.isDeleted('a/4'), { what: 'a later delete to arrive' })
    expect(hub.replica.isDeleted('b/2')).toBe(false)
    expect(hub.replica.isDeleted('a/3')).toBe(false)
    expect(await hub.replica.store.load('b/2')).toBeDefined()
  })
})
