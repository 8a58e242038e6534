import { describe, expect, it } from 'vitest'
import { decodeSnapshot, encodeSnapshot } from './nats-snapshots.js'

describe('snapshot records in the KV bucket', () => {
  it('an inline snapshot decodes to its sequence and state', () => {
    const state = new Uint8Array([1, 2, 3, 250])
    expect(decodeSnapshot(encodeSnapshot({ seq: 42, state }))).toEqual({ seq: 42, state })
  })

  it('bytes of an unknown format or cut short decode to undefined, never throw', () => {
    const whole = encodeSnapshot({ seq: 7, state: new Uint8Array(100) })
    expect(decodeSnapshot(new Uint8Array([9, 1, 2]))).toBeUndefined()
    expect(decodeSnapshot(whole.subarray(0, 10))).toBeUndefined()
    expect(decodeSnapshot(new Uint8Array())).toBeUndefined()
  })
})
