import { listenAddress, peerUrls, port, text } from './option-parsers.js'
import { type OptionSpec, option } from './option-spec-types.js'

/** Where the relay listens, where it keeps its data, and the relays it peers with. */
export const NETWORK_OPTION_SPEC: readonly OptionSpec[] = [
  option({
    key: 'host',
    flag: '--host <host>',
    env: 'HOST',
    default: 'localhost',
    parse: text,
    doc: 'interface to listen on',
  }),
  option({
    key: 'port',
    flag: '--port <port>',
    env: 'PORT',
    default: 1234,
    parse: port,
    doc: 'one port for HTTP and WebSocket (0 picks a free one)',
  }),
  option({
    key: 'data',
    flag: '--data <dir>',
    env: 'CONVERGE_DATA',
    default: './data',
    parse: text,
    doc: 'LevelDB directory',
  }),
  option({
    key: 'peers',
    flag: '--peer <url>',
    env: 'CONVERGE_PEERS',
    defaultText: 'none',
    parse: peerUrls,
    repeatable: true,
    doc: 'a relay to peer with, ws:// or wss:// (e.g. ws://relay-b:1234); checked at startup',
  }),
  option({
    key: 'peerToken',
    flag: '--peer-token <token>',
    env: 'CONVERGE_PEER_TOKEN',
    parse: text,
    secret: true,
    doc: 'token presented to the relays this one dials',
  }),
  option({
    key: 'peerTokenFile',
    flag: '--peer-token-file <file>',
    env: 'CONVERGE_PEER_TOKEN_FILE',
    defaultText: 'none',
    parse: text,
    doc: 'read the peer token from this file on every dial, and send it again on open links when the file changes (rotation without restart); instead of --peer-token',
  }),
  option({
    key: 'metricsListen',
    flag: '--metrics-listen <host:port>',
    env: 'CONVERGE_METRICS_LISTEN',
    defaultText: 'none (/metrics on the main port)',
    parse: listenAddress,
    doc: 'serve /metrics only on this separate address (a bare port: on 127.0.0.1); the main port then answers 404 for it',
  }),
]
