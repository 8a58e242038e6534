import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import { describe, expect, it } from 'vitest'
import { Awareness, applyAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { seedFor } from '../../../test/helpers/seed.js'
import { AwarenessGuard, type PresenceSpeaker } from './awareness-guard.js'
import { type AwarenessEntry, encodeAwarenessEntries } from './awareness-ids.js'

/** An awareness update whose states are raw bytes (possibly not UTF-8, possibly cut short). */
const rawUpdate = (entries: Array<{ client: number; clock: number; state: Uint8Array }>): Uint8Array => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const x of entries) {
    encoding.writeVarUint(e, x.client)
    encoding.writeVarUint(e, x.clock)
    encoding.writeVarUint8Array(e, x.state)
  }
  return encoding.toUint8Array(e)
}

const INVALID_UTF8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])
const TOO_DEEP = new TextEncoder().encode(`${'['.repeat(100)}${']'.repeat(100)}`)
const speaker = (): PresenceSpeaker & { awarenessClients: Set<number> } => ({ awarenessClients: new Set() })

/** The entries of an update, states decoded (what y-protocols reads). */
const entriesOf = (update: Uint8Array): AwarenessEntry[] => {
  const d = decoding.createDecoder(update)
  const n = decoding.readVarUint(d)
  return Array.from({ length: n }, () => ({
    client: decoding.readVarUint(d),
    clock: decoding.readVarUint(d),
    state: decoding.readVarString(d),
  }))
}

describe('AwarenessGuard: echoes are dropped by their clocks, before any state is decoded', () => {
  it('an echo whose every entry is no newer than the known clock is dropped whole, even with states it could not decode', () => {
    const guard = new AwarenessGuard()
    const clocks = new Map([
      [10, 5],
      [11, 5],
    ])
    const echo = rawUpdate([
      { client: 10, clock: 5, state: INVALID_UTF8 },
      { client: 11, clock: 4, state: TOO_DEEP },
    ])
    const admitted = guard.admit(
      echo,
      speaker(),
      () => true,
      1,
      8,
      (id) => clocks.get(id),
    )
    expect(admitted).toEqual({ update: undefined, present: [], removed: [], dropped: 2 })
  })

  it('an entry that is going to be applied is still checked: not UTF-8 or nested too deep is malformed', () => {
    const guard = new AwarenessGuard()
    for (const state of [INVALID_UTF8, TOO_DEEP]) {
      const fresh = rawUpdate([{ client: 10, clock: 6, state }])
      expect(() =>
        guard.admit(
          fresh,
          speaker(),
          () => false,
          1,
          8,
          () => 5,
        ),
      ).toThrow(expect.objectContaining({ code: 'CONVERGE_MALFORMED_MESSAGE' }))
    }
  })

  it('a state that runs past the end of the bytes is malformed, stale or not', () => {
    const guard = new AwarenessGuard()
    for (const clock of [1, 9]) {
      const whole = rawUpdate([{ client: 10, clock, state: new TextEncoder().encode('{"cursor":12345}') }])
      const cut = whole.subarray(0, whole.length - 3)
      // A view on a larger buffer: the bytes after the view must not be read as the state's.
      const inLarger = new Uint8Array(whole.length + 16)
      inLarger.set(cut)
      expect(() =>
        guard.admit(
          inLarger.subarray(0, cut.length),
          speaker(),
          () => false,
          1,
          8,
          () => 5,
        ),
      ).toThrow()
    }
  })

  it('of a partly stale message, the kept entries go on with their bytes unchanged, and Yjs applies exactly them', () => {
    const guard = new AwarenessGuard()
    const clocks = new Map([
      [10, 5],
      [11, 5],
      [12, 5],
    ])
    const entries: AwarenessEntry[] = [
      { client: 10, clock: 5, state: '{"cursor":1}' }, // echo: same clock
      { client: 11, clock: 6, state: '{"cursor":"é ✓"}' }, // newer
      { client: 12, clock: 5, state: 'null' }, // a removal at the same clock applies
      { client: 13, clock: 1, state: '{"name":"new"}' }, // unknown id
    ]
    const session = speaker()
    const admitted = guard.admit(
      encodeAwarenessEntries(entries),
      session,
      () => false,
      1,
      8,
      (id) => clocks.get(id),
    )
    expect(admitted.present).toEqual([11, 13])
    expect(admitted.removed).toEqual([12])
    expect(admitted.dropped).toBe(1)
    expect(admitted.update).toEqual(encodeAwarenessEntries(entries.slice(1)))
    const awareness = new Awareness(new Y.Doc())
    applyAwarenessUpdate(awareness, admitted.update as Uint8Array, 'test')
    expect(awareness.getStates().get(11)).toEqual({ cursor: 'é ✓' })
    expect(awareness.getStates().get(13)).toEqual({ name: 'new' })
  })

  it('only the exact bytes `null` remove a client; a string "null" or a padded null is a state', () => {
    const guard = new AwarenessGuard()
    const update = encodeAwarenessEntries([
      { client: 10, clock: 1, state: 'null' },
      { client: 11, clock: 1, state: '"null"' },
      { client: 12, clock: 1, state: ' null' },
    ])
    const admitted = guard.admit(update, speaker(), () => false, 1, 8)
    expect(admitted.removed).toEqual([10])
    expect(admitted.present).toEqual([11, 12])
  })
})

/**
 * The guard as it was before it read clocks first: every state decoded, then filtered by
 * the same rules. The guard must decide exactly as it does for well-formed updates.
 */
class ReferenceGuard {
  readonly owners = new Map<number, PresenceSpeaker>()
  admit(
    update: Uint8Array,
    session: PresenceSpeaker,
    hasState: (id: number) => boolean,
    localId: number,
    maxStates: number,
    clockOf: (id: number) => number | undefined,
  ) {
    const entries = entriesOf(update)
    const kept: AwarenessEntry[] = []
    let claims = 0
    for (const e of entries) {
      const owner = this.owners.get(e.client)
      const foreign = owner !== undefined && owner !== session && hasState(e.client)
      const known = clockOf(e.client)
      const stale = known !== undefined && (e.clock < known || (e.clock === known && e.state !== 'null'))
      if (foreign || e.client === localId || stale) continue
      if (e.state !== 'null' && owner !== session && !session.awarenessClients.has(e.client)) claims++
      kept.push(e)
    }
    if (claims > 0 && session.awarenessClients.size + claims > maxStates) throw new Error('limit')
    for (const e of kept) if (e.state !== 'null') this.owners.set(e.client, session)
    return {
      entries: kept,
      present: kept.filter((e) => e.state !== 'null').map((e) => e.client),
      removed: kept.filter((e) => e.state === 'null').map((e) => e.client),
      dropped: entries.length - kept.length,
    }
  }
}

describe('AwarenessGuard decides as a guard that decodes everything', () => {
  it('same entries kept, same claims refused, same owners, over random updates from random sessions (seeded)', () => {
    const seed = seedFor('awareness guard', import.meta.url)
    const gen = prng.create(seed)
    const guard = new AwarenessGuard()
    const reference = new ReferenceGuard()
    const sessions = Array.from({ length: 4 }, speaker)
    const clocks = new Map<number, number>()
    const states = new Set<number>()
    const localId = 1
    for (let step = 0; step < 2_000; step++) {
      const session = sessions[prng.uint32(gen, 0, sessions.length - 1)] as (typeof sessions)[number]
      const count = prng.uint32(gen, 0, 6)
      const entries: AwarenessEntry[] = Array.from({ length: count }, () => ({
        client: prng.uint32(gen, 1, 12),
        clock: prng.uint32(gen, 0, 6),
        state: prng.bool(gen)
          ? 'null'
          : JSON.stringify({ cursor: prng.uint32(gen, 0, 99), name: prng.word(gen, 0, 4) }),
      }))
      const update = encodeAwarenessEntries(entries)
      const hasState = (id: number) => states.has(id)
      const clockOf = (id: number) => clocks.get(id)
      const maxStates = prng.uint32(gen, 2, 8)
      let want: ReturnType<ReferenceGuard['admit']> | 'limit'
      try {
        want = reference.admit(update, session, hasState, localId, maxStates, clockOf)
      } catch {
        want = 'limit'
      }
      const where = `step ${step} (seed ${seed})`
      if (want === 'limit') {
        expect(() => guard.admit(update, session, hasState, localId, maxStates, clockOf), where).toThrow(/more than/)
        continue
      }
      const got = guard.admit(update, session, hasState, localId, maxStates, clockOf)
      expect(got.update === undefined ? [] : entriesOf(got.update), where).toEqual(want.entries)
      expect({ present: got.present, removed: got.removed, dropped: got.dropped }, where).toEqual({
        present: want.present,
        removed: want.removed,
        dropped: want.dropped,
      })
      // What the relay then knows, as after Yjs applied the kept entries.
      for (const e of want.entries) {
        clocks.set(e.client, e.clock)
        if (e.state === 'null') {
          states.delete(e.client)
          session.awarenessClients.delete(e.client)
          guard.released(e.client)
          reference.owners.delete(e.client)
        } else {
          states.add(e.client)
          session.awarenessClients.add(e.client)
        }
      }
      // Now and then a session ends and lets go of its ids.
      if (prng.uint32(gen, 0, 50) === 0) {
        guard.releaseAll(session)
        for (const [id, owner] of reference.owners) if (owner === session) reference.owners.delete(id)
        session.awarenessClients.clear()
      }
    }
  })
})
