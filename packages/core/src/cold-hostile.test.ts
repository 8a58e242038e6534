/**
 * A relay serving documents cold (cold-doc.ts) and one that builds a Y.Doc for them
 * (`coldDocs: false`) must look the same to every peer, hostile ones included: fed the same
 * valid, damaged and hand-made updates, each closes the sender with the same code (or keeps
 * it open), stores the same state and gives a fresh joiner the same document.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it } from 'vitest'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { seededRandom } from '../../../test/bench/lib/seeded-random.js'
import {
  anyStateVector,
  craftedUpdate,
  gappedUpdate,
  missingDeleteUpdate,
  v2Update,
} from '../../../test/fuzz/fuzz-updates.js'
import { handMade, hugeCount, mutate, type StructSpec } from '../../../test/fuzz/hand-made-updates.js'
import { stockRelay } from '../../../test/helpers/memory-relay.js'
import { runSeeds, seedFor } from '../../../test/helpers/seed.js'
import { SYNC, stockStep1, stockSyncFrame, stockUpdate } from '../../../test/helpers/stock-frames.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { MemoryStore } from './memory-store.js'
import type { ReplicaOptions } from './replica.js'

const SEED = Number(process.env.CONVERGE_SEED ?? 20261127)
const RUNS = Number(process.env.CONVERGE_COLD_FUZZ_RUNS ?? 8)
/** A run takes a second or three: many runs (a search for divergences) get the time they need. */
const RUNS_TIMEOUT = Math.max(120_000, RUNS * 15_000)
const REPLAY = (seed: number) =>
  `CONVERGE_SEED=${seed} CONVERGE_COLD_FUZZ_RUNS=1 npx vitest run --config test/vitest.config.ts packages/core/src/cold-hostile.test.ts -t 'same random'`

type Outcome = number | string

/** A relay (cold documents on or off) serving document 'doc' to stock clients at 'relay/doc'. */
const relayOn = (coldDocs: boolean, seed: number, store: MemoryStore, options: ReplicaOptions = {}) => {
  const r = stockRelay(coldDocs, seed, store, options)
  r.serve('doc')
  return r
}
type Relay = ReturnType<typeof relayOn>

/**
 * Sends `frames` on a new connection after its sync step 1, then a step 1 as a probe: the
 * outcome is the close code, or 'open' once the probe is answered (the relay takes a
 * connection's messages in order, so everything before it was handled).
 */
const sendOnce = async (r: Relay, id: string, frames: Uint8Array[], step1s = 0): Promise<Outcome> => {
  const t = r.net.connector('relay/doc', id)()
  let closed: number | undefined
  /** The step 2 answers, applied each to an empty document (the first answers the opening step 1). */
  const answers: string[] = []
  t.attach({
    onOpen: () => {
      t.send(stockStep1(new Y.Doc()))
      for (const f of frames) t.send(f)
      t.send(stockStep1(new Y.Doc()))
    },
    onMessage: (data) => {
      const d = decoding.createDecoder(data)
      if (decoding.readVarUint(d) === SYNC && decoding.readVarUint(d) === syncProtocol.messageYjsSyncStep2)
        answers.push(stateOfUpdates([decoding.readVarUint8Array(d)]))
    },
    onClose: (code) => {
      closed = code
    },
  })
  await waitFor(() => closed !== undefined || answers.length >= 2 + step1s, {
    timeout: 5000,
    what: `${id}: a close or the probe's answer`,
  })
  if (closed !== undefined) return closed
  t.close()
  // What the sender's own step 1s got (not the whole document: they told a state vector).
  return step1s === 0 ? 'open' : `open, answered ${answers.slice(1, 1 + step1s).join(' ')}`
}

/** What a document holds, to compare two: content, state vector, pending structs; or why it does not load. */
const stateOf = (doc: Y.Doc) =>
  JSON.stringify({
    t: doc.getText('t').toJSON(),
    m: doc.getMap('m').toJSON(),
    a: doc.getArray('a').toJSON(),
    sv: [...Y.decodeStateVector(Y.encodeStateVector(doc)).entries()].sort((x, y) => x[0] - y[0]),
    pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
  })
const stateOfUpdates = (updates: Uint8Array[]): string => {
  const doc = new Y.Doc()
  try {
    for (const u of updates) Y.applyUpdate(doc, u)
    return stateOf(doc)
  } catch (err) {
    return `does not apply: ${(err as Error).message}`
  } finally {
    doc.destroy()
  }
}
const storedState = async (store: MemoryStore) => {
  const stored = await store.load('doc')
  return stateOfUpdates(stored === undefined ? [] : [stored])
}

/** A stock client: applies whatever the relay sends; its state, or why it broke (an update that does not apply, a close). */
const observer = (r: Relay, id: string) => {
  const t = r.net.connector('relay/doc', id)()
  const doc = new Y.Doc()
  let failed: string | undefined
  let answered = false
  t.attach({
    onOpen: () => t.send(stockStep1(doc)),
    onMessage: (data) => {
      const d = decoding.createDecoder(data)
      if (decoding.readVarUint(d) !== SYNC) return
      try {
        const type = syncProtocol.readSyncMessage(d, encoding.createEncoder(), doc, 'relay')
        if (type === syncProtocol.messageYjsSyncStep2) answered = true
      } catch (err) {
        failed ??= `what the relay sent does not apply: ${(err as Error).message}`
      }
    },
    onClose: (code) => {
      failed ??= `closed with ${code}`
    },
  })
  return {
    state: () => failed ?? stateOf(doc),
    settled: () => answered || failed !== undefined,
    close: () => t.close(),
  }
}

/** What a fresh stock client gets on joining: the answers to its step 1, applied. */
const joinerState = async (r: Relay, id: string): Promise<string> => {
  const joiner = observer(r, id)
  await waitFor(joiner.settled, { timeout: 5000, what: `${id}: an answer` })
  // Parts of a cut answer come as updates after the step 2: none in flight any more.
  await waitFor(() => r.net.inFlight === 0, { timeout: 5000, what: `${id}: every part` })
  joiner.close()
  return joiner.state()
}

// --- the runs -----------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/** Both relays over stores holding the same state of document 'doc', written by `writer`. */
const pair = async (seed: number, writer: Y.Doc, options: ReplicaOptions = {}) => {
  const relays = await Promise.all(
    [true, false].map(async (cold) => {
      const store = new MemoryStore()
      // An empty writer: a document never stored.
      if (writer.store.clients.size > 0) await store.append('doc', Y.encodeStateAsUpdate(writer))
      return relayOn(cold, seed, store, options)
    }),
  )
  const [cold, warm] = relays as [Relay, Relay]
  cleanups.push(async () => {
    await cold.relay.destroy()
    await warm.relay.destroy()
  })
  return { cold, warm }
}

/** Sends `frames` to both relays on new connections; expects the same outcome, stored state and joiner state. */
const sameOutcome = async (
  p: { cold: Relay; warm: Relay },
  id: string,
  frames: Uint8Array[],
  what: string,
  step1s = 0,
) => {
  const cold = await sendOnce(p.cold, id, frames, step1s)
  const warm = await sendOnce(p.warm, id, frames, step1s)
  if (cold !== warm) throw new Error(`${what}: cold relay ${cold}, warm relay ${warm}`)
  await waitFor(async () => (await storedState(p.cold.store)) === (await storedState(p.warm.store)), {
    timeout: 3000,
    what: `${what}: the same stored state (cold ${await storedState(p.cold.store)}, warm ${await storedState(p.warm.store)})`,
  })
  const joiners = [await joinerState(p.cold, `${id}-j`), await joinerState(p.warm, `${id}-j`)]
  if (joiners[0] !== joiners[1]) throw new Error(`${what}: a joiner gets ${joiners[0]} cold, ${joiners[1]} warm`)
  return cold
}

const WRITER = 7000
const OTHER = 8000

/** A document with `n` characters of text from WRITER (and nested types when `nested`), some deleted. */
const baseDoc = (random: () => number, n: number, nested: boolean): Y.Doc => {
  const doc = new Y.Doc()
  doc.clientID = WRITER
  const text = doc.getText('t')
  for (let i = 0; i < n; i++) text.insert(Math.floor(random() * (text.length + 1)), String.fromCharCode(97 + (i % 26)))
  if (text.length > 4) text.delete(Math.floor(random() * (text.length - 4)), 3)
  if (nested) doc.getArray('a').insert(0, [new Y.Map()])
  return doc
}

describe('a cold relay and a warm one, fed the same hostile updates', () => {
  it('an update that looks redundant (every clock already covered) but is malformed closes the peer with 4400 on both', async () => {
    const random = seededRandom(SEED)
    const writer = baseDoc(random, 12, false)
    const p = await pair(SEED, writer)
    const cases: Array<[string, Uint8Array]> = [
      ['an empty deletion range of a known client', handMade([], [[WRITER, [[0, 0]]]])],
      ['an empty deletion range of an unknown client', handMade([], [[OTHER, [[0, 0]]]])],
      [
        'a covered struct whose origin is a later struct of its own client',
        handMade([{ client: WRITER, clock: 0, structs: [{ ref: 4, len: 1, origin: [WRITER, 5] }] }]),
      ],
      [
        'a covered map entry three long',
        handMade([{ client: WRITER, clock: 0, structs: [{ ref: 4, len: 3, parent: 'm', parentSub: 'k' }] }]),
      ],
    ]
    for (const [i, [what, update]] of cases.entries()) {
      for (const step2 of [false, true]) {
        const code = await sameOutcome(p, `h${i}${step2}`, [stockUpdate(update, step2)], what)
        expect({ what, code }).toEqual({ what, code: 4400 })
      }
    }
  })

  it('updates a cold check could misread (an item between two lists, a client in two blocks) end as on a warm relay', async () => {
    const random = seededRandom(SEED)
    const writer = baseDoc(random, 4, false)
    // A second root list: 'a' holds WRITER's last two structs.
    writer.getArray('a').insert(0, ['x', 'y'])
    const p = await pair(SEED, writer)
    const end = Y.getState(writer.store, WRITER)
    const cases: Array<[string, Uint8Array]> = [
      [
        'a covered item between the two lists',
        handMade([
          { client: WRITER, clock: 0, structs: [{ ref: 4, len: 1, origin: [WRITER, 0], right: [WRITER, end - 2] }] },
        ]),
      ],
      [
        'a new item of a client, then the client again from clock 0 (Yjs keeps the last block only)',
        handMade([
          { client: OTHER, clock: 1, structs: [{ ref: 4, len: 1, origin: [OTHER, 0] }] },
          { client: OTHER, clock: 0, structs: [{ ref: 4, len: 1, parent: 't' }] },
        ]),
      ],
      [
        'a client already there, its new struct first and a covered one after',
        handMade([
          { client: WRITER, clock: end, structs: [{ ref: 4, len: 1, origin: [WRITER, end - 1] }] },
          { client: WRITER, clock: 0, structs: [{ ref: 4, len: 1, parent: 't' }] },
        ]),
      ],
    ]
    for (const [i, [what, update]] of cases.entries()) await sameOutcome(p, `m${i}`, [stockUpdate(update, false)], what)
  })

  it('a client listed in two sections (or an empty one): both relays hold, store and, after a restart, serve what a Y.Doc that took the update holds', async () => {
    const random = seededRandom(SEED)
    const writer = baseDoc(random, 4, false)
    const end = Y.getState(writer.store, WRITER)
    const at = (client: number, clock: number, structs: StructSpec[]) => ({ client, clock, structs })
    const first = { ref: 4, len: 1, parent: 't' } as const
    const after = (client: number, clock: number): StructSpec => ({ ref: 4, len: 1, origin: [client, clock] })
    const cases: Array<[string, Uint8Array]> = [
      // Yjs keeps OTHER's second section alone: the item at 0; a merge of the stored bytes lost it.
      ['a new client at 1, then at 0', handMade([at(OTHER, 1, [after(OTHER, 0)]), at(OTHER, 0, [first])])],
      // The item at 1 waits for 0, which Yjs dropped; a merge showed both.
      ['a new client at 0, then at 1', handMade([at(OTHER, 0, [first]), at(OTHER, 1, [after(OTHER, 0)])])],
      [
        'a new client at 0 two long, then at 0 again',
        handMade([at(OTHER, 0, [{ ...first, len: 2 }]), at(OTHER, 0, [first])]),
      ],
      ['a new client at 0, then past a gap', handMade([at(OTHER, 0, [first]), at(OTHER, 5, [first])])],
      [
        'a known client, new then covered',
        handMade([at(WRITER, end, [after(WRITER, end - 1)]), at(WRITER, 0, [first])]),
      ],
      ['a new client, then an empty section of it', handMade([at(OTHER, 0, [first]), at(OTHER, 0, [])])],
      [
        'two clients, the first again after the second',
        handMade([at(OTHER, 0, [first]), at(OTHER + 1, 0, [first]), at(OTHER, 1, [after(OTHER, 0)])]),
      ],
    ]
    for (const [i, [what, update]] of cases.entries()) {
      const reference = new Y.Doc()
      Y.applyUpdate(reference, Y.encodeStateAsUpdate(writer))
      Y.applyUpdate(reference, update)
      const expected = stateOf(reference)
      const p = await pair(SEED + i, writer)
      expect({ what, outcome: await sameOutcome(p, `c${i}`, [stockUpdate(update, false)], what) }).toEqual({
        what,
        outcome: 'open',
      })
      for (const [side, r] of [
        ['cold', p.cold],
        ['warm', p.warm],
      ] as const) {
        expect({ what, side, joiner: await joinerState(r, `c${i}-j2`) }).toEqual({ what, side, joiner: expected })
        expect({ what, side, stored: await storedState(r.store) }).toEqual({ what, side, stored: expected })
        // After a restart: a new relay over the same durable data (the store merges what it kept).
        await r.relay.destroy()
        const again = relayOn(side === 'cold', SEED + i, r.store.restart())
        cleanups.push(() => again.relay.destroy())
        expect({ what, side, restarted: await joinerState(again, `c${i}-j3`) }).toEqual({
          what,
          side,
          restarted: expected,
        })
      }
    }
  })

  it('damaged stored state: a cold relay answers a joiner as a warm one does (both repair the store on load), and never sends bytes that do not apply', async () => {
    const random = seededRandom(SEED)
    const writer = baseDoc(random, 30, false)
    const good = Y.encodeStateAsUpdate(writer)
    const damaged: Array<[string, Uint8Array[]]> = [
      ['a truncated state', [good.slice(0, Math.floor(good.length / 2))]],
      ['a state with a bit flipped', [mutate(seededRandom(SEED + 1), good)]],
      ['random bytes', [Uint8Array.from([1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f])]],
      ['a good state and a truncated part', [good, good.slice(0, 9)]],
    ]
    for (const [i, [what, parts]] of damaged.entries()) {
      const outcome = async (cold: boolean) => {
        const store = new MemoryStore()
        for (const part of parts) await store.append('doc', part)
        const r = relayOn(cold, SEED, store)
        cleanups.push(() => r.relay.destroy())
        return joinerState(r, `j${i}`).catch((err: Error) => `no answer: ${err.message}`)
      }
      expect({ what, cold: await outcome(true) }).toEqual({ what, cold: await outcome(false) })
    }
  })

  it(
    'the same random updates (valid, redundant, damaged, hand-made, huge counts), one per connection: the same close code, stored state and joiner state',
    async () => {
      const first = seedFor('cold and warm relay, hostile updates', import.meta.url, { CONVERGE_COLD_FUZZ_RUNS: RUNS })
      await runSeeds(first, RUNS, REPLAY, randomRun)
    },
    RUNS_TIMEOUT,
  )
})

const randomRun = async (seed: number) => {
  const random = seededRandom(seed)
  const rng = prng.create(seed)
  const nested = random() < 0.3
  const writer = baseDoc(random, random() < 0.15 ? 0 : 20 + Math.floor(random() * 40), nested)
  const p = await pair(seed, writer, random() < 0.5 ? { coldWritesBeforeLoad: 1000 } : {})
  const watchers = [observer(p.cold, 'watcher'), observer(p.warm, 'watcher')] as const
  cleanups.push(async () => {
    for (const w of watchers) w.close()
  })
  const sent: Uint8Array[] = [Y.encodeStateAsUpdate(writer)]
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
  const next = (): [string, Uint8Array] => {
    const r = random()
    if (r < 0.2) {
      const before = Y.encodeStateVector(writer)
      const text = writer.getText('t')
      if (random() < 0.7 || text.length < 2) text.insert(Math.floor(random() * (text.length + 1)), `w${seed}`)
      else text.delete(Math.floor(random() * (text.length - 1)), 1)
      const u = Y.encodeStateAsUpdate(writer, before)
      sent.push(u)
      return ['a valid update', u]
    }
    if (r < 0.28) return ['a redundant update', pick(sent)]
    if (r < 0.33) return ['the delete set alone', Y.encodeStateAsUpdate(writer, Y.encodeStateVector(writer))]
    if (r < 0.53) return ['a damaged update', mutate(random, pick([...sent, Y.encodeStateAsUpdate(writer)]))]
    if (r < 0.57) return ['a crafted update', craftedUpdate(rng)]
    if (r < 0.6) return ['a gapped update', gappedUpdate(rng)]
    if (r < 0.63) return ['deletions of unknown structs', missingDeleteUpdate(rng)]
    if (r < 0.65) return ['a v2 update', v2Update(rng)]
    if (r < 0.7) {
      const where = pick(['clients', 'structs', 'ranges'] as const)
      return [`a huge count of ${where}`, hugeCount(where, pick([2 ** 20, 2 ** 31, 2 ** 53 - 1]), WRITER)]
    }
    if (r < 0.96) {
      // Hand-made structs, mostly at clocks the relay has (they look redundant), often malformed.
      const end = Y.getState(writer.store, WRITER)
      const client = random() < 0.75 ? WRITER : OTHER
      const clock =
        client === WRITER && random() < 0.8
          ? Math.max(0, Math.floor(random() * (end - 1)))
          : client === WRITER
            ? end
            : 0
      const near = (): [number, number] => [WRITER, Math.floor(random() * end)]
      const structs: StructSpec[] = [
        pick([
          { ref: 4, len: 1, origin: [client, clock + Math.floor(random() * 3)] },
          { ref: 4, len: 1, origin: near(), right: near() },
          { ref: 4, len: 1, origin: near() },
          { ref: 4, len: 1, right: near() },
          { ref: 4, len: 1 + Math.floor(random() * 3), parent: pick(['t', 'm', 'a']), parentSub: 'k' },
          { ref: 4, len: 1, parent: pick(['t', 'm', 'a']) },
          { ref: 0, len: 1 + Math.floor(random() * 3) },
          { ref: 10, len: 1 + Math.floor(random() * 3) },
          { ref: 1, len: 1 },
        ] as StructSpec[]),
      ]
      const ds: Array<[number, Array<[number, number]>]> =
        random() < 0.4 ? [[pick([WRITER, OTHER]), [[Math.floor(random() * end), Math.floor(random() * 3)]]]] : []
      const blocks = random() < 0.85 ? [{ client, clock, structs }] : []
      // The same client twice: Yjs applies the last block of a client only.
      if (random() < 0.25) blocks.push({ client, clock: pick([0, clock + 1, end]), structs })
      return ['a hand-made update', handMade(blocks, ds)]
    }
    return ['random bytes', Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256))]
  }
  for (let step = 0; step < 40; step++) {
    if (random() < 0.15) {
      // A sync step 1 with a state vector that is damaged, made up, or real.
      const sv = pick([
        () => mutate(random, Y.encodeStateVector(writer)),
        () => anyStateVector(rng),
        () => Y.encodeStateVector(writer),
      ])()
      const step1 = stockSyncFrame((e) => {
        encoding.writeVarUint(e, syncProtocol.messageYjsSyncStep1)
        encoding.writeVarUint8Array(e, sv)
      })
      const hex = Buffer.from(sv).toString('hex').slice(0, 400)
      await sameOutcome(p, `s${step}`, [step1], `step ${step}: a sync step 1 with state vector ${hex}`, 1)
      continue
    }
    // Now and then several on one connection: they are taken in order, each while the last may still be written.
    const batch = Array.from({ length: random() < 0.2 ? 2 + Math.floor(random() * 3) : 1 }, next)
    const what = batch.map(([w, u]) => `${w} ${Buffer.from(u).toString('hex').slice(0, 400)}`).join('; ')
    const frames = batch.map(([, u]) => stockUpdate(u, random() < 0.3))
    await sameOutcome(p, `s${step}`, frames, `step ${step}: ${what}`)
    // A client connected all along has what each relay passed on.
    await waitFor(() => watchers[0].state() === watchers[1].state(), {
      timeout: 3000,
      what: `step ${step}: ${what}: the same state at a connected client (cold ${watchers[0].state()}, warm ${watchers[1].state()})`,
    })
  }
}
