import { afterEach, describe, expect, it } from 'vitest'
import { broadcastChannel } from './broadcast-channel-transport.js'
import { Replica } from './replica.js'

// Node has BroadcastChannel too: channels of one name in one process reach each other,
// as the tabs of one origin do in a browser. Each Replica here stands for one tab.
let channel = 0
const replicas: Replica[] = []

/** One tab; `received` counts the messages it got by type. */
const tab = (name: string): Replica & { received: Map<string, number> } => {
  const received = new Map<string, number>()
  const observer = { messageIn: (_peer: string, type: string) => received.set(type, (received.get(type) ?? 0) + 1) }
  const replica = Object.assign(new Replica({ peerId: `tab-${replicas.length}`, observer }), { received })
  replica.connect(broadcastChannel(name), { upstream: false, handshake: false })
  replicas.push(replica)
  return replica
}

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.destroy()))
})

const text = (r: Replica, doc: string) => r.loadedDoc(doc)?.getText('t').toString()

/**
 * Each tab writes a marker and every tab waits to see all of them. Messages from one tab
 * arrive in order, so after two rounds everything the tabs sent while starting is handled.
 */
const settle = async (tabs: Replica[], doc: string) => {
  for (const round of [1, 2]) {
    for (const t of tabs) t.loadedDoc(doc)?.getMap('rounds').set(t.peerId, round)
    const seen = (t: Replica) => tabs.every((o) => t.loadedDoc(doc)?.getMap('rounds').get(o.peerId) === round)
    await expect.poll(() => tabs.every(seen)).toBe(true)
  }
}

describe('BroadcastChannel between tabs', () => {
  it('edits in one tab reach every other tab that has the document open', async () => {
    const name = `bc-test-${channel++}`
    const [a, b, c] = [tab(name), tab(name), tab(name)]
    const [da] = await Promise.all([a.open('notes'), b.open('notes'), c.open('notes')])
    da.getText('t').insert(0, 'hello')
    await expect.poll(() => [text(b, 'notes'), text(c, 'notes')]).toEqual(['hello', 'hello'])
  })

  it('a tab that opens the document later receives what the other tabs hold', async () => {
    const name = `bc-test-${channel++}`
    const a = tab(name)
    ;(await a.open('notes')).getText('t').insert(0, 'before')
    const b = tab(name)
    await b.open('notes')
    await expect.poll(() => text(b, 'notes')).toBe('before')
  })

  it('one tab closing a document does not stop the other tabs from syncing it', async () => {
    const name = `bc-test-${channel++}`
    const [a, b, c] = [tab(name), tab(name), tab(name)]
    const [, db] = await Promise.all([a.open('notes'), b.open('notes'), c.open('notes')])
    await settle([a, b, c], 'notes')
    await a.close('notes')
    await expect.poll(() => [b.received.get('unsubscribe'), c.received.get('unsubscribe')]).toEqual([1, 1])
    db.getText('t').insert(0, 'still shared')
    await expect.poll(() => text(c, 'notes')).toBe('still shared')
  })

  it('presence crosses tabs, and a tab that closes the document leaves the others', async () => {
    const name = `bc-test-${channel++}`
    const [a, b] = [tab(name), tab(name)]
    await Promise.all([a.open('notes'), b.open('notes')])
    a.awareness('notes').setLocalStateField('user', { name: 'Ada' })
    const aId = a.awareness('notes').clientID
    await expect.poll(() => b.awareness('notes').getStates().get(aId)?.user?.name).toBe('Ada')
    await a.close('notes')
    await expect.poll(() => b.awareness('notes').getStates().has(aId)).toBe(false)
  })
})
