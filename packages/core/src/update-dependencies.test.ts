import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryNetwork } from './memory-network.js'
import { MemoryStore } from './memory-store.js'
import { Replica } from './replica.js'

type Id = [client: number, clock: number]

/**
 * A V1 update of one string item of `client` at `clock`, written by hand so it can say
 * what no Yjs encoder would: its origin, right origin, or explicit parent and map key.
 */
const item = (
  client: number,
  clock: number,
  text: string,
  at: { origin?: Id; right?: Id; parent?: string | Id; key?: string },
) => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // clients with structs
  encoding.writeVarUint(e, 1) // structs of this client
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, clock)
  encoding.writeUint8(e, 4 | (at.origin ? 0x80 : 0) | (at.right ? 0x40 : 0) | (at.key ? 0x20 : 0)) // 4: string
  for (const id of [at.origin, at.right]) if (id) for (const n of id) encoding.writeVarUint(e, n)
  if (!at.origin && !at.right) {
    encoding.writeVarUint(e, typeof at.parent === 'string' ? 1 : 0)
    if (typeof at.parent === 'string') encoding.writeVarString(e, at.parent)
    else for (const n of at.parent ?? [0, 0]) encoding.writeVarUint(e, n)
    if (at.key) encoding.writeVarString(e, at.key)
  }
  encoding.writeVarString(e, text)
  encoding.writeVarUint(e, 0) // empty delete set
  return encoding.toUint8Array(e)
}

/** Client 1's state: map.x is a Y.Map (1:0) holding k = 'v' (1:1); text is 'abc' (1:2..4). */
const base = () => {
  const doc = new Y.Doc()
  doc.clientID = 1
  doc.transact(() => {
    const nested = new Y.Map()
    doc.getMap('map').set('x', nested)
    nested.set('k', 'v')
  })
  doc.getText('text').insert(0, 'abc')
  return Y.encodeStateAsUpdate(doc)
}

/** A V1 update of deletions only: `ranges` of `client`. */
const deletions = (client: number, ranges: Array<[number, number]>) => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0)
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, ranges.length)
  for (const [clock, len] of ranges) {
    encoding.writeVarUint(e, clock)
    encoding.writeVarUint(e, len)
  }
  return encoding.toUint8Array(e)
}

/** An update from a new client that inserts next to an item of a client the receiver lacks. */
const nextToMissing = (padding: number) => {
  const base = new Y.Doc()
  base.getArray('a').push(['base'])
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const sv = Y.encodeStateVector(doc)
  doc.getArray('a').push(['x'.repeat(padding)])
  return Y.encodeStateAsUpdate(doc, sv)
}

const relay = (maxPendingBytes = 4 * 1024 * 1024) => {
  const store = new MemoryStore()
  return { store, replica: new Replica({ role: 'relay', store, maxPendingBytes }) }
}

describe('updates a relay must refuse before persisting them', () => {
  it('an item pointing at a later struct of its own client is malformed, and nothing is stored', async () => {
    const { store, replica } = relay()
    for (const clock of [0, 5]) {
      await expect(replica.applyUpdate('d', item(7, 0, 'x', { right: [7, clock] }))).rejects.toMatchObject({
        code: 'CONVERGE_MALFORMED_MESSAGE',
      })
    }
    expect(await store.load('d')).toBeUndefined()
  })

  it('an item whose origin and right origin are in different lists is malformed', async () => {
    const { replica } = relay()
    await replica.applyUpdate('d', base())
    // Left neighbour: the nested map's entry k; right neighbour: a character of the text.
    await expect(replica.applyUpdate('d', item(2, 0, 'zz', { origin: [1, 1], right: [1, 3] }))).rejects.toMatchObject({
      code: 'CONVERGE_MALFORMED_MESSAGE',
    })
  })

  it('a map entry longer than one struct is malformed: stored, it would make a later, valid overwrite of the map throw', async () => {
    const { store, replica } = relay()
    await replica.applyUpdate('d', base())
    // 'abc' after the entry k of map.x: it takes the key's place, three characters long.
    await expect(replica.applyUpdate('d', item(2, 0, 'abc', { origin: [1, 1] }))).rejects.toMatchObject({
      code: 'CONVERGE_MALFORMED_MESSAGE',
    })
    // Had it been stored, an item splitting it and a plain overwrite of map.x would throw in Yjs.
    const overwrite = new Y.Doc()
    overwrite.clientID = 3
    Y.applyUpdate(overwrite, base())
    const sv = Y.encodeStateVector(overwrite)
    overwrite.getMap('map').set('x', 1)
    await replica.applyUpdate('d', Y.encodeStateAsUpdate(overwrite, sv))
    const reloaded = new Y.Doc()
    Y.applyUpdate(reloaded, (await store.load('d')) as Uint8Array)
    expect(reloaded.getMap('map').get('x')).toBe(1)
  })

  it('the same structures from a real Yjs document pass: a map entry overwritten, text typed between characters', async () => {
    const { replica } = relay()
    await replica.applyUpdate('d', base())
    const doc = new Y.Doc()
    doc.clientID = 4
    Y.applyUpdate(doc, base())
    const sv = Y.encodeStateVector(doc)
    ;(doc.getMap('map').get('x') as Y.Map<string>).set('k', 'w')
    doc.getText('text').insert(1, 'zz')
    await replica.applyUpdate('d', Y.encodeStateAsUpdate(doc, sv))
    expect(replica.loadedDoc('d')?.getText('text').toString()).toBe('azzbc')
  })

  // Found by the live-relay fuzz (seed 531078702): a GC struct of length 0 integrated as an
  // empty deleted range, and every later encoding of the document threw when read back.
  it('an empty struct is malformed, and the document keeps encoding to bytes that apply', async () => {
    const { store, replica } = relay()
    await replica.applyUpdate('d', base())
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 1) // clients with structs
    encoding.writeVarUint(e, 1) // structs of this client
    encoding.writeVarUint(e, 9)
    encoding.writeVarUint(e, 0)
    encoding.writeUint8(e, 0) // GC
    encoding.writeVarUint(e, 0) // of length 0
    encoding.writeVarUint(e, 0) // empty delete set
    await expect(replica.applyUpdate('d', encoding.toUint8Array(e))).rejects.toMatchObject({
      code: 'CONVERGE_MALFORMED_MESSAGE',
    })
    const fresh = new Y.Doc()
    Y.applyUpdate(fresh, (await store.load('d')) as Uint8Array)
    expect(() => Y.applyUpdate(new Y.Doc(), Y.encodeStateAsUpdate(fresh))).not.toThrow()
  })

  it('an empty deletion range is malformed (Yjs throws applying one past the local state)', async () => {
    const { store, replica } = relay()
    await expect(replica.applyUpdate('d', deletions(9, [[3, 0]]))).rejects.toMatchObject({
      code: 'CONVERGE_MALFORMED_MESSAGE',
    })
    expect(await store.load('d')).toBeUndefined()
  })
})

describe('maxPendingBytes counts every way an update can wait for missing structs', () => {
  it('inserts next to a missing origin count against the limit', async () => {
    const { replica } = relay(10_000)
    await replica.applyUpdate('d', nextToMissing(6_000))
    await expect(replica.applyUpdate('d', nextToMissing(6_000))).rejects.toMatchObject({
      code: 'CONVERGE_LIMIT_EXCEEDED',
    })
  })

  it('deletions of missing structs count against the limit', async () => {
    const { replica } = relay(2_000)
    const many = (client: number) =>
      deletions(
        client,
        Array.from({ length: 400 }, (_, i) => [2 * i, 1]),
      )
    await replica.applyUpdate('d', many(11))
    await replica.applyUpdate('d', many(12))
    await expect(replica.applyUpdate('d', many(13))).rejects.toMatchObject({ code: 'CONVERGE_LIMIT_EXCEEDED' })
  })

  it('an update whose origins are in the update itself is not pending', async () => {
    const { replica } = relay(100)
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    doc.getText('t').insert(2, 'y'.repeat(500))
    await replica.applyUpdate('d', Y.encodeStateAsUpdate(doc))
    expect(replica.loadedDoc('d')?.getText('t').toString()).toBe(doc.getText('t').toString())
  })
})

describe('maxPendingBytes applies to clients, not to what relays pass on', () => {
  it('a client syncs a document whose pending structs exceed its own limit, from its relay', async () => {
    const limit = 20_000
    const net = new MemoryNetwork()
    const { replica: server } = relay(limit)
    net.listen('relay', (t) => server.accept(t))
    for (let i = 0; ; i++) {
      const refused = await server.applyUpdate('d', nextToMissing(5_000)).then(
        () => false,
        () => true,
      )
      if (refused) break
      expect(i).toBeLessThan(10)
    }
    // The relay's step 2 carries all of its pending structs: far more than this client's limit.
    const client = new Replica({ maxPendingBytes: limit / 10 })
    client.connect(net.connector('relay', 'client'))
    await client.open('d')
    await client.whenSynced('d', { timeout: 2000 })
    expect(Y.encodeStateAsUpdate(client.loadedDoc('d') as Y.Doc).length).toBeGreaterThan(limit / 2)
    await client.destroy()
  })
})
