import { describe, expect, it } from 'vitest'
import type { Message } from './messages.js'
import { decodeMuxFrame, encodeMuxFrame } from './mux-codec.js'

const u8 = (...b: number[]) => new Uint8Array(b)

const samples: Message[] = [
  { type: 'sync-step1', doc: 'notes', stateVector: u8(1, 5, 3) },
  { type: 'sync-step2', doc: 'team/a', update: u8(0, 0) },
  {
    type: 'sync-step1-deletes',
    doc: 'big',
    stateVector: u8(1, 5, 3),
    deleteDigests: u8(1, 5, 6, 8, 1, 2, 3, 4, 5, 6, 7, 8),
  },
  { type: 'update', doc: 'émoji 🎉', update: u8(1, 2, 3, 4) },
  { type: 'awareness', doc: 'd', update: u8(1, 2) },
  { type: 'query-awareness', doc: 'd' },
  { type: 'auth-denied', doc: 'd', reason: 'no' },
  { type: 'hello', version: 1, peerId: 'abc', role: 'relay', token: 't.o.k' },
  { type: 'hello', version: 1, peerId: '', role: 'client', token: '' },
  { type: 'subscribe', doc: 'd' },
  { type: 'unsubscribe', doc: 'd' },
  { type: 'saved', doc: 'd', seq: 123456, stateVector: u8(1, 9, 9) },
  { type: 'stateless', doc: 'd', payload: '{"cursor":3}' },
  { type: 'inventory-summary', bucketBits: 2, digests: new Uint8Array(32).fill(7) },
  {
    type: 'inventory',
    bucketBits: 3,
    buckets: [0, 5],
    entries: [{ doc: 'a', digest: new Uint8Array(8).fill(1) }],
    final: true,
  },
  { type: 'inventory', bucketBits: 0, buckets: [], entries: [], final: false },
  { type: 'error', doc: '', code: 'CONVERGE_X', message: 'm' },
  { type: 'error', doc: 'd', code: 'CONVERGE_FORBIDDEN', message: 'read-only' },
  { type: 'ping' },
  { type: 'pong' },
]

describe('converge.v1 codec', () => {
  it('every message survives an encode and decode unchanged', () => {
    for (const m of samples) expect(decodeMuxFrame(encodeMuxFrame(m))).toEqual(m)
  })

  it('a frame cut short anywhere, or followed by extra bytes, is malformed', () => {
    for (const m of samples) {
      const frame = encodeMuxFrame(m)
      for (let cut = 0; cut < frame.length; cut++) {
        expect(() => decodeMuxFrame(frame.subarray(0, cut)), `${m.type} cut at ${cut}`).toThrow(
          expect.objectContaining({ code: 'CONVERGE_MALFORMED_MESSAGE' }),
        )
      }
      const longer = new Uint8Array(frame.length + 1)
      longer.set(frame)
      expect(() => decodeMuxFrame(longer)).toThrow(expect.objectContaining({ code: 'CONVERGE_MALFORMED_MESSAGE' }))
    }
  })

  it('refuses unknown types, invalid names, lying counts and oversized summaries', () => {
    const bad = [
      u8(0, 99), // unknown connection message
      u8(1, 0x61, 99), // unknown document message
      u8(1, 0x01, 17), // a control character in a document name
      u8(0, 20, 1, 0, 0, 0xff, 0xff, 0x03), // inventory claiming 65535 entries in a few bytes
      u8(0, 24, 40, 0), // 2^40 buckets
      u8(0, 24, 1, 3, 0, 0, 0), // a summary of the wrong size
      u8(0, 16, 1, 0, 9, 0), // hello with role 9
      u8(1, 0x61, 0, 7, 0), // sync subtype 7
    ]
    for (const frame of bad) {
      expect(() => decodeMuxFrame(frame), String(frame)).toThrow(
        expect.objectContaining({ code: 'CONVERGE_MALFORMED_MESSAGE' }),
      )
    }
  })
})
