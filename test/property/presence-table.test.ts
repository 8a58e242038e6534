/**
 * A relay's presence table (packages/core/src/presence-table.ts) against y-protocols'
 * Awareness: random sequences of awareness updates (clocks older, equal and newer, `null`
 * removals, re-adds after a removal, states a JSON encoder would write differently, the
 * falsy states y-protocols encodes as null), removals and the passing of time (states
 * outdated after 30 s, swept every 3 s) give the same states, the same clocks, the same
 * encoded updates and the same 'update' events (added / updated / removed, with origin)
 * from both. Seeded: CONVERGE_PROPERTY_SEED replays a run (the seed and the command are
 * printed); CONVERGE_PROPERTY_RUNS sets the number of runs.
 */
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AwarenessChange } from '../../packages/core/src/doc-presence.js'
import type { PresenceSweep as Sweep } from '../../packages/core/src/presence-sweep.js'
import { PresenceTable } from '../../packages/core/src/presence-table.js'

// lib0's clock (which y-protocols reads) is `Date.now` as it was when lib0/time first
// loaded: y-protocols is imported once the fake clock is installed, so both sides see it.
type YProtocols = typeof import('y-protocols/awareness')
let yp: YProtocols
let PresenceSweep: typeof Sweep

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'], now: 1_000_000 })
  yp = await import('y-protocols/awareness')
  ;({ PresenceSweep } = await import('../../packages/core/src/presence-sweep.js'))
  // The fake clock must be the one y-protocols reads (else no state would ever time out).
  const { getUnixTime } = await import('lib0/time')
  const before = getUnixTime()
  vi.advanceTimersByTime(5)
  if (getUnixTime() !== before + 5) throw new Error('lib0/time was loaded before the fake clock was installed')
})
afterAll(() => {
  vi.useRealTimers()
})

/** The reference's own id: outside the ids the updates name (a relay's presence has none of its own). */
const OWN_ID = 1_000
const IDS = [1, 2, 3, 4, 5]
const ORIGINS = ['session-a', 'session-b', 'nats'] as const

/** A state's JSON text: canonical, as another encoder might write it, falsy, or the removal `null`. */
const stateText = fc.oneof(
  { weight: 3, arbitrary: fc.constant('null') },
  {
    weight: 6,
    arbitrary: fc
      .record({ cursor: fc.integer({ min: 0, max: 3 }), name: fc.constantFrom('ann', 'bo') })
      .map((s) => JSON.stringify(s)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('{ "cursor" : 1 }', '{"n":1e2,"s":"\\u0041"}', '[1, 2]', '{}', ' null '),
  },
  { weight: 1, arbitrary: fc.constantFrom('false', '0', '""', '-0', 'true', '"x"') },
)

const entry = fc.record({ client: fc.constantFrom(...IDS), clock: fc.integer({ min: 0, max: 6 }), state: stateText })

type Op =
  | { kind: 'update'; entries: { client: number; clock: number; state: string }[]; origin: string }
  | { kind: 'remove'; ids: number[]; origin: string }
  | { kind: 'wait'; ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      entries: fc.array(entry, { minLength: 1, maxLength: 3 }),
      origin: fc.constantFrom(...ORIGINS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('remove' as const),
      ids: fc.array(fc.constantFrom(...IDS), { minLength: 1, maxLength: 3 }),
      origin: fc.constantFrom(...ORIGINS),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 4_000 }), fc.integer({ min: 10_000, max: 36_000 })),
    }),
  },
)

const encodeUpdate = (entries: { client: number; clock: number; state: string }[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const e of entries) {
    encoding.writeVarUint(encoder, e.client)
    encoding.writeVarUint(encoder, e.clock)
    encoding.writeVarString(encoder, e.state)
  }
  return encoding.toUint8Array(encoder)
}

interface Logged {
  change: AwarenessChange
  origin: unknown
}

/** Runs `ops` on a y-protocols Awareness (a relay's: no state of its own) and on a table; checks after each. */
const runBoth = (ops: Op[]): void => {
  const reference = new yp.Awareness({ clientID: OWN_ID, on: () => undefined } as never)
  reference.setLocalState(null)
  const sweep = new PresenceSweep()
  const expected: Logged[] = []
  const actual: Logged[] = []
  reference.on('update', (change: AwarenessChange, origin: unknown) => expected.push({ change, origin }))
  const table = new PresenceTable(sweep, (change, origin) => actual.push({ change, origin }))
  try {
    for (const [i, o] of ops.entries()) {
      if (o.kind === 'update') {
        const update = encodeUpdate(o.entries)
        yp.applyAwarenessUpdate(reference, update, o.origin)
        table.apply(update, o.origin)
      } else if (o.kind === 'remove') {
        yp.removeAwarenessStates(reference, o.ids, o.origin)
        table.remove(o.ids, o.origin)
      } else vi.advanceTimersByTime(o.ms)
      const step = `after op ${i} (${JSON.stringify(o)})`
      expect(actual, `events ${step}`).toEqual(expected)
      const states = new Map(reference.getStates())
      states.delete(OWN_ID)
      // As JSON, as peers see them (a -0 in a state is 0 once encoded, from both).
      expect(JSON.stringify([...table.states()]), `states ${step}`).toBe(JSON.stringify([...states]))
      expect(table.size, `size ${step}`).toBe(states.size)
      expect(new Set(table.ids()), `ids ${step}`).toEqual(new Set(states.keys()))
      const seen = [...reference.meta.keys()].filter((id) => id !== OWN_ID)
      for (const id of IDS) {
        expect(table.clockOf(id), `clock of ${id} ${step}`).toBe(reference.meta.get(id)?.clock)
        expect(table.has(id), `has ${id} ${step}`).toBe(reference.getStates().has(id))
      }
      expect(table.encode(seen), `encoded ${step}`).toEqual(yp.encodeAwarenessUpdate(reference, seen))
    }
  } finally {
    reference.destroy()
    table.destroy()
  }
  expect(sweep.size).toBe(0)
}

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const NAME = 'a presence table takes, removes, times out and encodes states as y-protocols Awareness does'

describe('presence table against y-protocols Awareness', () => {
  it(NAME, () => {
    const given = process.env.CONVERGE_PROPERTY_SEED
    const seed = given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31)
    const runs = Number(process.env.CONVERGE_PROPERTY_RUNS || 300)
    const file = relative(REPO, fileURLToPath(import.meta.url))
    console.log(
      `[presence table] seed ${seed}, ${runs} runs; replay: CONVERGE_PROPERTY_SEED=${seed} npx vitest run --config test/vitest.config.ts ${file}`,
    )
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => runBoth(ops)),
      { seed, numRuns: runs },
    )
  })

  it('a malformed update throws and changes nothing (y-protocols would keep the entries before the bad one)', () => {
    const table = new PresenceTable(new PresenceSweep())
    const good = encodeUpdate([{ client: 1, clock: 1, state: '{"a":1}' }])
    table.apply(good, 'x')
    const bad = encodeUpdate([
      { client: 1, clock: 2, state: '{"a":2}' },
      { client: 2, clock: 1, state: '{not json' },
    ])
    expect(() => table.apply(bad, 'x')).toThrow()
    expect(() => table.apply(bad.subarray(0, bad.length - 3), 'x')).toThrow()
    expect(table.clockOf(1)).toBe(1)
    expect(table.states()).toEqual(new Map([[1, { a: 1 }]]))
    expect(table.clockOf(2)).toBeUndefined()
    table.destroy()
  })

  it('one sweep serves every table, and stops once the last is destroyed', () => {
    const sweep = new PresenceSweep()
    const removed: number[][] = []
    const tables = [1, 2, 3].map(() => new PresenceTable(sweep, (c, o) => o === 'timeout' && removed.push(c.removed)))
    for (const [i, t] of tables.entries()) t.apply(encodeUpdate([{ client: 10 + i, clock: 1, state: '{}' }]), 'x')
    expect(sweep.size).toBe(3)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(29_000)
    expect(removed.flat()).toEqual([])
    vi.advanceTimersByTime(4_000)
    expect(removed).toEqual([[10], [11], [12]])
    for (const t of tables) t.destroy()
    expect(sweep.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})
