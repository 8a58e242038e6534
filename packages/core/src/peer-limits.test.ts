import { describe, expect, it } from 'vitest'
import { peerLimitsOf } from './peer-limits.js'
import { DEFAULT_PEER_OPTIONS } from './peer-options.js'

describe('peerLimitsOf', () => {
  it('holds every default, each overridden by a given option, undefined leaves the default, and nothing but limits and backoff', () => {
    const backoff = { initialDelay: 5, maxDelay: 50 }
    const limits = peerLimitsOf({
      maxMessageBytes: 1024,
      heartbeatInterval: undefined,
      framing: { yWebsocketDoc: 'd' },
      token: 'secret',
      backoff,
    })
    expect(limits).toEqual({ ...DEFAULT_PEER_OPTIONS, maxMessageBytes: 1024, backoff })
    expect(Object.keys(limits)).toEqual([...Object.keys(DEFAULT_PEER_OPTIONS), 'backoff'])
  })

  it('two connections with different framing and access get limits with the same keys in the same order', () => {
    const a = peerLimitsOf({ framing: { yWebsocketDoc: 'a' }, access: { read: true, write: false } } as never)
    const b = peerLimitsOf({ framing: 'converge.v1', maxBacklog: 7 })
    expect(Object.keys(a)).toEqual(Object.keys(b))
  })
})
