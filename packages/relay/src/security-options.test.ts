import { tmpdir } from 'node:os'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addRelayOptions, relayConfigOf } from './cli-options.js'
import { keyPairs, list, OptionValueError, seconds } from './option-parsers.js'

const configOf = async (args: string[], env: Record<string, string> = {}) => {
  const command = addRelayOptions(new Command('relay').exitOverride())
  command.parse(args, { from: 'user' })
  return (await relayConfigOf(command, env, tmpdir())).values
}

describe('security options on the command line', () => {
  it('parse durations, lists and key pairs, and refuse what they are not', () => {
    expect(seconds('90')).toBe(90)
    expect(seconds('30m')).toBe(1800)
    expect(seconds('30d')).toBe(30 * 86400)
    expect(() => seconds('soon')).toThrow(OptionValueError)
    expect(list(' https://a.example, https://b.example ,')).toEqual(['https://a.example', 'https://b.example'])
    expect(keyPairs('k1=abc=def,k2=x')).toEqual({ k1: 'abc=def', k2: 'x' })
    expect(() => keyPairs('nokid')).toThrow(OptionValueError)
  })

  it('repeated --auth-key flags merge, repeated --allowed-origins add up, the environment fills the rest', async () => {
    const values = await configOf(
      [
        '--auth-key',
        'k1=one',
        '--auth-key',
        'k2=two',
        '--allowed-origins',
        'https://a.example',
        '--allowed-origins',
        'https://b.example,https://c.example',
        '--allow-unauthenticated-relays',
        '--max-token-ttl',
        '12h',
      ],
      { CONVERGE_PER_IP_EXEMPT: '10.0.0.1,10.0.0.2', CONVERGE_METRICS_TOKEN: 'm' },
    )
    expect(values.authKeys).toEqual({ k1: 'one', k2: 'two' })
    expect(values.allowedOrigins).toEqual(['https://a.example', 'https://b.example', 'https://c.example'])
    expect(values.allowUnauthenticatedRelays).toBe(true)
    expect(values.maxTokenTtl).toBe(12 * 3600)
    expect(values.perIpExempt).toEqual(['10.0.0.1', '10.0.0.2'])
    expect(values.metricsToken).toBe('m')
  })

  it('defaults: relays need a token, 30-day tokens at most, loopback exempt from the per-address caps', async () => {
    const values = await configOf([])
    expect(values.allowUnauthenticatedRelays).toBe(false)
    expect(values.maxTokenTtl).toBe(30 * 86400)
    expect(values.perIpExempt).toEqual(['127.0.0.1', '::1', '::ffff:127.0.0.1'])
    expect(values.allowedOrigins).toBeUndefined()
  })
})
