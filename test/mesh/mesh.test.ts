import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { adminArgs, counter, relayDoc } from '../helpers/admin.js'
import { freePort, RelayProcess } from '../helpers/relay-process.js'
import { contentOf, type NodeReplica, nodeReplica } from '../helpers/replicas.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** Liveness short enough for tests: a silent link is dropped within 2 s. */
const fastLiveness = ['--heartbeat-interval', '500', '--heartbeat-timeout', '2000']

/** Starts relays whose peer lists are given by name: { A: ['B'], B: ['C'], C: [] }. */
const mesh = async (topology: Record<string, string[]>): Promise<Record<string, RelayProcess>> => {
  const names = Object.keys(topology)
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const)))
  const relays: Record<string, RelayProcess> = {}
  await Promise.all(
    names.map(async (n) => {
      const relay = await RelayProcess.start({
        port: ports[n],
        peers: (topology[n] ?? []).map((p) => `ws://127.0.0.1:${ports[p]}`),
        // A mesh without auth: the relays trust each other's relay role (a test network).
        extraArgs: [...adminArgs, ...fastLiveness, '--peer-id', n, '--allow-unauthenticated-relays'],
      })
      relays[n] = relay
      cleanup.push(() => relay.dispose())
    }),
  )
  return relays
}

/**
 * The most frames a loop-free mesh needs: each edit transaction is forwarded at most once
 * by each relay to each of its links and acknowledged at most once per hop (2 frames per
 * direction of each link), and setting up one document on one link (subscribe, step 1,
 * step 2, acks, presence, the inventory rounds) takes a bounded number.
 */
const SETUP_FRAMES_PER_LINK = 16
const meshFrameBound = (links: number, edits: number) => links * SETUP_FRAMES_PER_LINK + edits * links * 2 * 2

const client = async (relay: RelayProcess) => {
  const r = await nodeReplica(relay.url)
  cleanup.push(() => r.dispose())
  return r
}

const sameContent = (docs: Y.Doc[]) =>
  docs.every((d) => JSON.stringify(contentOf(d)) === JSON.stringify(contentOf(docs[0] as Y.Doc)))

const edit = (doc: Y.Doc, tag: string, i: number) =>
  doc.transact(() => {
    doc.getText('text').insert(0, `${tag}${i} `)
    doc.getMap('map').set(`${tag}${i % 3}`, i)
    doc.getArray('array').push([`${tag}${i}`])
  })

describe('relay mesh without a coordinator (relays as processes)', () => {
  it('relays A-B-C in a line: clients on A and C edit one doc and converge', async () => {
    const { A, B, C } = await mesh({ A: ['B'], B: ['C'], C: [] })
    const a = await client(A as RelayProcess)
    const c = await client(C as RelayProcess)
    const da = await a.replica.open('line')
    const dc = await c.replica.open('line')
    for (let i = 0; i < 20; i++) {
      edit(da, 'a', i)
      edit(dc, 'c', i)
    }
    await a.replica.whenSaved('line', { timeout: 10_000 })
    await c.replica.whenSaved('line', { timeout: 10_000 })
    await waitFor(() => sameContent([da, dc]) && da.getArray('array').length === 40, {
      what: 'A and C clients to converge',
    })
    expect(Y.encodeStateVector(da)).toEqual(Y.encodeStateVector(dc))
    const atB = await relayDoc(B as RelayProcess, 'line')
    expect(contentOf(atB)).toEqual(contentOf(da))
  })

  it('the middle relay is SIGKILLed while both sides edit; when it returns, all converge', async () => {
    const { A, B, C } = await mesh({ A: ['B'], B: ['C'], C: [] })
    const a = await client(A as RelayProcess)
    const c = await client(C as RelayProcess)
    const da = await a.replica.open('kill-b')
    const dc = await c.replica.open('kill-b')
    edit(da, 'a', 0)
    await waitFor(() => dc.getArray('array').length === 1, { what: 'the first edit to cross the line' })
    let i = 1
    const typing = setInterval(() => {
      edit(da, 'a', i)
      edit(dc, 'c', i)
      i++
    }, 5)
    await waitFor(() => i > 20, { what: 'some edits before the kill' })
    await (B as RelayProcess).kill()
    await waitFor(() => i > 60, { what: 'edits while B is down' })
    await (B as RelayProcess).start()
    await waitFor(() => i > 100, { what: 'edits after B returned' })
    clearInterval(typing)
    await a.replica.whenSaved('kill-b', { timeout: 15_000 })
    await c.replica.whenSaved('kill-b', { timeout: 15_000 })
    await waitFor(() => sameContent([da, dc]) && da.getArray('array').length === 1 + 2 * (i - 1), {
      timeout: 20_000,
      what: 'A and C clients to converge after B returned',
    })
    for (const relay of [A, B, C] as RelayProcess[]) {
      await waitFor(
        async () => JSON.stringify(contentOf(await relayDoc(relay, 'kill-b'))) === JSON.stringify(contentOf(da)),
        {
          timeout: 15_000,
          what: `relay on ${relay.port} to converge`,
        },
      )
    }
  })

  it('a relay that was down catches up on a document no client on it ever opened', async () => {
    const { A, B, C } = await mesh({ A: ['B'], B: ['C'], C: [] })
    await (C as RelayProcess).kill()
    const a = await client(A as RelayProcess)
    const da = await a.replica.open('unseen')
    for (let i = 0; i < 1000; i++) da.getArray('array').push([i])
    await a.replica.whenSaved('unseen', { timeout: 10_000 })
    await (C as RelayProcess).start()
    // Nobody asks C for the document: the mesh's anti-entropy must bring it.
    await waitFor(async () => (await relayDoc(C as RelayProcess, 'unseen')).getArray('array').length === 1000, {
      timeout: 20_000,
      what: 'C to receive the document by anti-entropy',
    })
    await a.dispose()
    cleanup.splice(cleanup.indexOf(cleanup[cleanup.length - 1] as () => Promise<void>), 1)
    await (A as RelayProcess).kill()
    await (B as RelayProcess).kill()
    const reader = await client(C as RelayProcess)
    const dr = await reader.replica.open('unseen')
    await reader.replica.whenSynced('unseen', { timeout: 5000 })
    expect(dr.getArray('array').toArray()).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  it('a ring of four relays converges, then falls quiet', async () => {
    const relays = await mesh({ A: ['B'], B: ['C'], C: ['D'], D: ['A'] })
    const list = Object.values(relays)
    const clients = await Promise.all(list.map((r) => client(r)))
    const docs = await Promise.all(clients.map((c) => c.replica.open('ring')))
    docs.forEach((d, i) => {
      for (let k = 0; k < 10; k++) edit(d, `r${i}-`, k)
    })
    await Promise.all(clients.map((c) => c.replica.whenSaved('ring', { timeout: 10_000 })))
    await waitFor(() => sameContent(docs) && (docs[0] as Y.Doc).getArray('array').length === 40, {
      what: 'every client to see every edit',
    })
    // Quiet: the document frames (everything but heartbeats) the relays received stop
    // growing: the same count over consecutive reads, each a metrics round trip to every
    // relay. A mesh that keeps forwarding never gets there.
    const docFrames = async () => {
      let total = 0
      for (const r of list)
        total += await counter(r, 'converge_messages_in_total', (l) => !/type="(ping|pong)"/.test(l))
      return total
    }
    let last = -1
    let sameReads = 0
    await waitFor(
      async () => {
        const now = await docFrames()
        sameReads = now === last ? sameReads + 1 : 0
        last = now
        return sameReads >= 5
      },
      { timeout: 15_000, what: 'the ring to fall quiet' },
    )
    // No storm: at most what forwarding each of the 40 edit transactions once per hop needs.
    const links = list.length * 2 // a mesh link and a client link per relay
    expect(last).toBeLessThanOrEqual(meshFrameBound(links, 40))
  })

  it('presence crosses the mesh and leaves with its client', async () => {
    const { A, C } = await mesh({ A: ['B'], B: ['C'], C: [] })
    const a = await client(A as RelayProcess)
    const c = await client(C as RelayProcess)
    await a.replica.open('presence')
    await c.replica.open('presence')
    a.replica.awareness('presence').setLocalStateField('user', { name: 'alice' })
    const namesAtC = () =>
      [...c.replica.awareness('presence').getStates().values()].map(
        (s) => (s.user as { name: string } | undefined)?.name,
      )
    await waitFor(() => namesAtC().includes('alice'), { what: 'alice to appear on C' })
    await a.replica.close('presence')
    await waitFor(() => !namesAtC().includes('alice'), { what: 'alice to leave on C' })
  })

  it('200 documents sync over one converge.v1 socket', async () => {
    const { A } = await mesh({ A: [] })
    const writer = await client(A as RelayProcess)
    const names = Array.from({ length: 200 }, (_, i) => `many/${i}`)
    const docs = await Promise.all(names.map((n) => writer.replica.open(n)))
    for (const [i, d] of docs.entries()) d.getText('text').insert(0, `doc ${i}`)
    await Promise.all(names.map((n) => writer.replica.whenSaved(n, { timeout: 20_000 })))
    expect(writer.replica.peers.size).toBe(1)
    expect(await counter(A as RelayProcess, 'converge_connections')).toBe(1)
    const reader: NodeReplica = await client(A as RelayProcess)
    const read = await Promise.all(names.map((n) => reader.replica.open(n)))
    await Promise.all(names.map((n) => reader.replica.whenSynced(n, { timeout: 20_000 })))
    expect(read.map((d) => d.getText('text').toString())).toEqual(names.map((_, i) => `doc ${i}`))
  })

  it('a relay that freezes (SIGSTOP) is detected by heartbeat and its peer reconnects when it thaws', async () => {
    const { A, B } = await mesh({ A: ['B'], B: [] })
    const a = await client(A as RelayProcess)
    const da = await a.replica.open('frozen')
    edit(da, 'a', 0)
    await a.replica.whenSaved('frozen', { timeout: 5000 })
    await waitFor(async () => (await relayDoc(B as RelayProcess, 'frozen')).getArray('array').length === 1, {
      what: 'B to have the first edit',
    })
    const errorsBefore = await counter(A as RelayProcess, 'converge_errors_total', (l) =>
      l.includes('CONVERGE_TIMEOUT'),
    )
    ;(B as RelayProcess).child?.kill('SIGSTOP')
    try {
      // The TCP connection stays up; only the heartbeat can notice.
      await waitFor(
        async () =>
          (await counter(A as RelayProcess, 'converge_errors_total', (l) => l.includes('CONVERGE_TIMEOUT'))) >
          errorsBefore,
        { timeout: 10_000, what: 'A to time out the frozen peer' },
      )
      edit(da, 'a', 1)
    } finally {
      ;(B as RelayProcess).child?.kill('SIGCONT')
    }
    await waitFor(async () => (await relayDoc(B as RelayProcess, 'frozen')).getArray('array').length === 2, {
      timeout: 15_000,
      what: 'B to catch up after thawing',
    })
  })
})
