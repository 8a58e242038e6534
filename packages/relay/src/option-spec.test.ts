import { readFileSync, writeFileSync } from 'node:fs'
import { DEFAULT_PEER_OPTIONS, MemoryStore, MUX_PROTOCOL } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { type ConfigKey, optionSpecOf, peerOptionsOf, RELAY_DEFAULTS, RELAY_OPTION_SPEC } from './option-spec.js'
import { OPTION_TABLE_BEGIN, OPTION_TABLE_END, renderOptionTable, withOptionTable } from './option-table.js'
import { Relay, type RelayOptions } from './relay.js'

/** Options of a relay on a free loopback port, in memory and silent, with `extra`. */
const localRelay = (extra: Partial<RelayOptions> = {}): RelayOptions => ({
  host: '127.0.0.1',
  port: 0,
  store: new MemoryStore(),
  logger: false,
  ...extra,
})

const readmeOf = (pkg: string) => new URL(`../../${pkg}/README.md`, import.meta.url)

/** Every configurable key, listed so that the compiler rejects this file when RelayOptions gains one. */
const ALL_KEYS: Record<ConfigKey, true> = {
  host: true,
  port: true,
  data: true,
  fsync: true,
  journal: true,
  peers: true,
  peerToken: true,
  peerTokenFile: true,
  metricsListen: true,
  trustProxy: true,
  authSecret: true,
  authKeys: true,
  maxTokenTtl: true,
  tokenRefreshGrace: true,
  revocationsFile: true,
  allowedOrigins: true,
  allowedHosts: true,
  allowUnauthenticatedRelays: true,
  metricsToken: true,
  firstMessageTimeout: true,
  maxConnectionsPerIp: true,
  maxHandshakesPerIp: true,
  perIpExempt: true,
  headersTimeout: true,
  requestTimeout: true,
  maxAdminBodyBytes: true,
  tlsCert: true,
  tlsKey: true,
  static: true,
  adminToken: true,
  unloadDelay: true,
  coldDocs: true,
  awarenessCoalesceMs: true,
  awarenessFramesPerSecond: true,
  awarenessCoalesceMaxMs: true,
  maxMessageBytes: true,
  maxPendingBytes: true,
  maxMessagesPerSecond: true,
  messageBurst: true,
  maxPreAuthBytes: true,
  handshakeTimeout: true,
  maxDocsPerConnection: true,
  maxBacklog: true,
  maxInFlightBytes: true,
  maxInFlightMessages: true,
  maxDocInFlightBytes: true,
  maxDocInFlightMessages: true,
  inFlightCeiling: true,
  slowReaderBytes: true,
  maxBufferedBytes: true,
  maxSyncChunkBytes: true,
  pingInterval: true,
  maxStateVectorEntries: true,
  maxMessageWork: true,
  maxAwarenessStateBytes: true,
  maxAwarenessStatesPerSession: true,
  maxUpdateBytesPerConnection: true,
  maxUpdateBytesPerToken: true,
  maxPeerTextLength: true,
  remoteErrorsPerMinute: true,
  maxNestingDepth: true,
  maxDocBytes: true,
  maxMergedUpdateBytes: true,
  heartbeatInterval: true,
  heartbeatTimeout: true,
  peerId: true,
  natsServers: true,
  natsUser: true,
  natsPass: true,
  natsCreds: true,
  natsTlsCa: true,
  natsTlsCert: true,
  natsTlsKey: true,
  natsSaved: true,
  natsReplicas: true,
  natsRetention: true,
  natsSnapshotEvery: true,
  natsCatchupTimeout: true,
  natsStream: true,
  natsPrefix: true,
  logLevel: true,
  logFormat: true,
  changeFeed: true,
  changeRetentionMs: true,
  changeRetentionBytes: true,
  changeKeepAlive: true,
  changeTrimInterval: true,
  settleDelay: true,
  settleMaxWait: true,
  webhooks: true,
  webhookSecret: true,
  webhookMaxAttempts: true,
  webhookRetryDelay: true,
  webhookMaxRetryDelay: true,
  webhookTimeout: true,
  webhookConcurrency: true,
}

describe('the relay option spec', () => {
  it('defines every relay option exactly once, each with a flag, an env var and a doc line', () => {
    const keys = RELAY_OPTION_SPEC.map((s) => s.key)
    expect([...keys].sort()).toEqual(Object.keys(ALL_KEYS).sort())
    for (const field of ['flag', 'env'] as const) {
      const values = RELAY_OPTION_SPEC.map((s) => s[field])
      expect(new Set(values).size, `${field}s are unique`).toBe(values.length)
    }
    for (const spec of RELAY_OPTION_SPEC) expect(spec.doc.length, spec.key).toBeGreaterThan(10)
  })

  it("the relay README's option table is the one rendered from the spec", () => {
    const readme = readFileSync(readmeOf('relay'), 'utf8')
    if (process.env.CONVERGE_WRITE_README === '1') writeFileSync(readmeOf('relay'), withOptionTable(readme))
    const begin = readme.indexOf(OPTION_TABLE_BEGIN)
    const end = readme.indexOf(OPTION_TABLE_END)
    expect(begin, 'the README has the table markers').toBeGreaterThan(0)
    expect(
      readme.slice(begin + OPTION_TABLE_BEGIN.length, end).trim(),
      'packages/relay/README.md disagrees with src/option-spec.ts: run with CONVERGE_WRITE_README=1 to rewrite it',
    ).toBe(renderOptionTable())
  })

  it('peer-level defaults are core DEFAULT_PEER_OPTIONS, and the core README table states the same values', () => {
    for (const spec of RELAY_OPTION_SPEC) {
      if (spec.peer === undefined) continue
      const own = DEFAULT_PEER_OPTIONS[spec.peer.option as keyof typeof DEFAULT_PEER_OPTIONS]
      expect(spec.default, spec.key).toBe(own)
    }
    // "| `heartbeatInterval` | 10000 ms | ..." rows of core's peer option table.
    const core = readFileSync(readmeOf('core'), 'utf8')
    const units: Record<string, number> = { '': 1, ms: 1, KiB: 1024, MiB: 1024 * 1024 }
    let checked = 0
    for (const [key, value] of Object.entries(DEFAULT_PEER_OPTIONS)) {
      const row = new RegExp(`^\\| \`${key}\` \\| (\\d+) ?(ms|KiB|MiB)? \\|`, 'm').exec(core)
      if (row === null) continue
      expect(Number(row[1]) * (units[row[2] ?? ''] as number), `core README default of ${key}`).toBe(value)
      checked++
    }
    expect(checked).toBeGreaterThanOrEqual(6)
  })

  it('accepted links get every peer option; dialed mesh links all but the client-only limits', () => {
    const dialed = [
      'connectTimeout',
      'heartbeatInterval',
      'heartbeatTimeout',
      'maxBacklog',
      'maxMessageBytes',
      'maxPreAuthBytes',
      'maxInFlightBytes',
      'maxInFlightMessages',
      'maxDocInFlightBytes',
      'maxDocInFlightMessages',
      'inFlightCeiling',
      'slowReaderBytes',
      'maxBufferedBytes',
      'maxSyncChunkBytes',
      'maxStateVectorEntries',
      'maxMessageWork',
      'maxAwarenessStateBytes',
      'maxPeerTextLength',
    ]
    const clientOnly = [
      'maxDocsPerConnection',
      'maxMessagesPerSecond',
      'messageBurst',
      'maxAwarenessStatesPerSession',
      'maxUpdateBytesPerConnection',
      'remoteErrorsPerMinute',
    ]
    expect(Object.keys(peerOptionsOf(RELAY_DEFAULTS, 'accept')).sort()).toEqual([...dialed, ...clientOnly].sort())
    expect(Object.keys(peerOptionsOf(RELAY_DEFAULTS, 'dial')).sort()).toEqual([...dialed].sort())
    expect(peerOptionsOf({ handshakeTimeout: 123 }, 'dial')).toEqual({ connectTimeout: 123 })
    expect(optionSpecOf('handshakeTimeout').doc).toContain('connectTimeout')
  })
})

describe('a relay passes its options to the mesh links it dials', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    while (closers.length > 0) await (closers.pop() as () => Promise<void>)()
  })

  it('a dial to a relay that never answers hello gives up after handshakeTimeout and redials', async () => {
    // A converge.v1 server that accepts the socket and stays silent.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => MUX_PROTOCOL })
    await new Promise((resolve) => silent.once('listening', resolve))
    closers.push(() => new Promise((resolve) => silent.close(() => resolve())))
    const opened: number[] = []
    silent.on('connection', () => opened.push(Date.now()))
    const port = (silent.address() as { port: number }).port
    const relay = await Relay.start(localRelay({ peers: [`ws://127.0.0.1:${port}`], handshakeTimeout: 150 }))
    closers.push(() => relay.stop())
    // With the peer default (10 s) only one attempt would be made in this time.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${opened.length} dials in 5 s`)), 5_000)
      silent.on('connection', () => {
        if (opened.length >= 2) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    expect((opened[1] as number) - (opened[0] as number)).toBeLessThan(DEFAULT_PEER_OPTIONS.connectTimeout)
  })

  it('Relay.start refuses a peer URL without a ws or wss scheme, naming it', async () => {
    await expect(Relay.start(localRelay({ peers: ['relay-b:1234'] }))).rejects.toThrow(
      /peer "relay-b:1234" has no scheme; a peer is ws:\/\/host:port/,
    )
    await expect(Relay.start(localRelay({ peers: ['http://b:1234'] }))).rejects.toThrow(/has scheme http/)
  })
})
