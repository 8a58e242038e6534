import { describe, expect, it } from 'vitest'
import { TokenQuotas, tokenQuotaKey } from './token-quota.js'

describe('per-token byte quotas', () => {
  it('a token is known by its jti, else its sub, else its signature', () => {
    expect(tokenQuotaKey({ jti: 'j', sub: 's' }, 'h.p.sig')).toBe('jti:j')
    expect(tokenQuotaKey({ sub: 's' }, 'h.p.sig')).toBe('sub:s')
    expect(tokenQuotaKey({}, 'h.p.sig')).toBe('token:sig')
  })

  it('charges add up per token up to the limit, and the count of an expired token is forgotten', () => {
    let now = 1_000_000
    const quotas = new TokenQuotas(100, () => now)
    const exp = now / 1000 + 60
    quotas.charge('a', exp, 60)
    quotas.charge('b', exp + 3600, 60)
    expect(() => quotas.charge('a', exp, 41)).toThrow(/maxUpdateBytesPerToken/)
    expect(quotas.size).toBe(2)
    now += 120_000
    quotas.charge('c', now / 1000 + 60, 1)
    // a expired (its sweep came), b lives on with its count.
    expect(quotas.size).toBe(2)
    expect(() => quotas.charge('b', exp + 3600, 41)).toThrow(/maxUpdateBytesPerToken/)
  })
})
