import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_FILE_NAME, ConfigError, formatConfig, readConfigFile, resolveConfig } from './relay-config.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'converge-config-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const file = (values: Record<string, unknown>) => ({ path: '/etc/converge.config.json', values })

describe('relay configuration', () => {
  it('takes each value from the first of flag, env, file and default that sets it, and says which', () => {
    const config = resolveConfig({
      flags: { port: 1 },
      env: { PORT: '2', CONVERGE_DATA: '/env-data', CONVERGE_HEARTBEAT_INTERVAL: '' },
      file: file({ port: 3, data: '/file-data', unloadDelay: 5, heartbeatInterval: 7, peers: ['ws://a:1', 'wss://b'] }),
    })
    expect(config.values).toMatchObject({
      port: 1,
      data: '/env-data',
      unloadDelay: 5,
      heartbeatInterval: 7,
      peers: ['ws://a:1', 'wss://b'],
      host: 'localhost',
    })
    expect(config.sources).toMatchObject({
      port: 'flag',
      data: 'env',
      unloadDelay: 'file',
      heartbeatInterval: 'file',
      host: 'default',
    })
    expect(config.sources.authSecret).toBeUndefined()
  })

  it('env values are parsed by the spec: lists split on commas, booleans read as words', () => {
    const config = resolveConfig({ flags: {}, env: { CONVERGE_PEERS: 'ws://a:1, ws://b:2', CONVERGE_FSYNC: 'false' } })
    expect(config.values.peers).toEqual(['ws://a:1', 'ws://b:2'])
    expect(config.values.fsync).toBe(false)
    expect(resolveConfig({ flags: {}, env: { CONVERGE_FSYNC: '1' } }).values.fsync).toBe(true)
  })

  it('a bad value names the variable or the file key it came from', () => {
    expect(() => resolveConfig({ flags: {}, env: { PORT: 'abc' } })).toThrow(
      /^PORT=abc: "abc" is not a non-negative integer/,
    )
    expect(() => resolveConfig({ flags: {}, env: { CONVERGE_PEERS: 'relay-b:1234' } })).toThrow(
      /CONVERGE_PEERS=relay-b:1234: "relay-b:1234" has no scheme/,
    )
    expect(() => resolveConfig({ flags: {}, env: {}, file: file({ port: '1234x' }) })).toThrow(
      /converge.config.json: "port" must be a number/,
    )
    expect(() => resolveConfig({ flags: {}, env: {}, file: file({ fsync: 'yes' }) })).toThrow(
      /"fsync" must be a boolean/,
    )
    expect(() => resolveConfig({ flags: {}, env: {}, file: file({ logLevel: 'loud' }) })).toThrow(
      /"logLevel": "loud" is not one of fatal/,
    )
  })

  it('reads ./converge.config.json when present, and --config FILE only if it exists', async () => {
    expect(await readConfigFile(undefined, dir)).toBeUndefined()
    await writeFile(join(dir, CONFIG_FILE_NAME), JSON.stringify({ port: 4321 }))
    expect(await readConfigFile(undefined, dir)).toEqual({ path: join(dir, CONFIG_FILE_NAME), values: { port: 4321 } })
    await expect(readConfigFile('missing.json', dir)).rejects.toThrow(
      /cannot read the config file .*missing.json: ENOENT/,
    )
  })

  it('the example config file in ops/ is valid', async () => {
    const example = await readConfigFile(
      '../../../ops/converge.config.example.json',
      fileURLToPath(new URL('.', import.meta.url)),
    )
    const config = resolveConfig({ flags: {}, env: {}, file: example })
    expect(config.sources.peers).toBe('file')
    expect(config.values.fsync).toBe(true)
  })

  it('refuses a config file with an unknown key or that is not a JSON object', async () => {
    await writeFile(join(dir, 'typo.json'), JSON.stringify({ prot: 1 }))
    await expect(readConfigFile('typo.json', dir)).rejects.toThrow(/unknown option "prot"/)
    await writeFile(join(dir, 'broken.json'), '{ "port": ')
    await expect(readConfigFile('broken.json', dir)).rejects.toThrow(ConfigError)
    await writeFile(join(dir, 'list.json'), '[]')
    await expect(readConfigFile('list.json', dir)).rejects.toThrow(/one JSON object/)
  })

  it('--print-config shows every option with its source and never a secret', () => {
    const text = formatConfig(
      resolveConfig({
        flags: { adminToken: 'admin-s3cret' },
        env: { CONVERGE_AUTH_SECRET: 'auth-s3cret' },
        file: file({ peerToken: 'peer-s3cret', port: 99 }),
      }),
    )
    expect(text).not.toMatch(/s3cret/)
    expect(text).toMatch(/^adminToken +"<redacted>" +flag$/m)
    expect(text).toMatch(/^authSecret +"<redacted>" +env CONVERGE_AUTH_SECRET$/m)
    expect(text).toMatch(/^peerToken +"<redacted>" +file$/m)
    expect(text).toMatch(/^port +99 +file$/m)
    expect(text).toMatch(/^heartbeatInterval +10000 +default$/m)
    expect(text).toMatch(/^tlsCert +\(none\)$/m)
  })
})
