import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { decodeDeleteDigests, deletionsNotIn } from './delete-set-chunks.js'
import { checkMessageLimits, DEFAULT_MESSAGE_LIMITS } from './message-limits.js'
import { WorkBudget } from './work-budget.js'

const digests = (client: number, bits: number, chunks: number) => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, bits)
  encoding.writeVarUint8Array(e, new Uint8Array(chunks * 8))
  return encoding.toUint8Array(e)
}

const stateVector = (entries: number) => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries)
  for (let i = 0; i < entries; i++) {
    encoding.writeVarUint(e, i)
    encoding.writeVarUint(e, 1)
  }
  return encoding.toUint8Array(e)
}

const awareness = (states: string[]) => {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, states.length)
  states.forEach((s, i) => {
    encoding.writeVarUint(e, i + 1)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, s)
  })
  return encoding.toUint8Array(e)
}

describe('the work one message may cause is bounded', () => {
  it('delete digests with chunks under 2^6 clocks or more than 4096 chunks are malformed', () => {
    expect(() => decodeDeleteDigests(digests(1, 0, 1))).toThrow(/malformed/)
    expect(() => decodeDeleteDigests(digests(1, 5, 1))).toThrow(/malformed/)
    expect(() => decodeDeleteDigests(digests(1, 6, 4097))).toThrow(/chunks/)
    expect(decodeDeleteDigests(digests(1, 6, 4096)).get(1)?.bits).toBe(6)
  })

  it('answering digests walks 60k deleted ranges once, whatever the chunks asked', () => {
    const ranges = new Map([[7, Array.from({ length: 60_000 }, (_, i): [number, number] => [2 * i, 1])]])
    const work = new WorkBudget(Number.POSITIVE_INFINITY, 'the test')
    const missing = deletionsNotIn(ranges, decodeDeleteDigests(digests(7, 6, 4096)), work)
    // Clipping per chunk cost chunks × ranges (38 s for 60k ranges with bits = 0); a walk is linear.
    expect(work.spent).toBeLessThanOrEqual(2 * 60_000 + 4096)
    const sent = [...(missing.get(7) ?? [])].reduce((n, [, len]) => n + len, 0)
    expect(sent).toBe(60_000)
  })

  it('a state vector over maxStateVectorEntries, or one that lies about its count, is refused before decoding', () => {
    const limits = { ...DEFAULT_MESSAGE_LIMITS, maxStateVectorEntries: 10 }
    expect(() => checkMessageLimits({ type: 'sync-step1', doc: 'd', stateVector: stateVector(11) }, limits)).toThrow(
      expect.objectContaining({ code: 'CONVERGE_LIMIT_EXCEEDED' }),
    )
    expect(() =>
      checkMessageLimits({ type: 'saved', doc: 'd', seq: 1, stateVector: new Uint8Array([9, 1, 1]) }, limits),
    ).toThrow(expect.objectContaining({ code: 'CONVERGE_MALFORMED_MESSAGE' }))
    checkMessageLimits({ type: 'sync-step1', doc: 'd', stateVector: stateVector(10) }, limits)
  })

  it('state vector entries and digest chunks of one message share one work budget', () => {
    const limits = { ...DEFAULT_MESSAGE_LIMITS, maxMessageWork: 4_000 }
    const m = (entries: number, chunks: number) => ({
      type: 'sync-step1-deletes' as const,
      doc: 'd',
      stateVector: stateVector(entries),
      deleteDigests: digests(1, 6, chunks),
    })
    checkMessageLimits(m(1_000, 2_000), limits)
    expect(() => checkMessageLimits(m(2_000, 2_500), limits)).toThrow(/units of work/)
  })

  it('an awareness state over maxAwarenessStateBytes is refused', () => {
    const limits = { ...DEFAULT_MESSAGE_LIMITS, maxAwarenessStateBytes: 100 }
    checkMessageLimits({ type: 'awareness', doc: 'd', update: awareness(['{}', 'x'.repeat(100)]) }, limits)
    expect(() =>
      checkMessageLimits({ type: 'awareness', doc: 'd', update: awareness(['{}', 'x'.repeat(101)]) }, limits),
    ).toThrow(expect.objectContaining({ code: 'CONVERGE_LIMIT_EXCEEDED' }))
  })
})
