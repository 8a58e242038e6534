import { DEFAULT_PEER_OPTIONS } from '@converge/core'
import { DEFAULT_SERVER_OPTIONS } from '@converge/websocket'
import { nonNegativeInt, text } from './option-parsers.js'
import { type OptionSpec, option } from './option-spec-types.js'

/** How links are kept alive (heartbeats, WebSocket pings) and how this relay is named in the mesh. */
export const LINK_OPTION_SPEC: readonly OptionSpec[] = [
  option({
    key: 'heartbeatInterval',
    flag: '--heartbeat-interval <ms>',
    env: 'CONVERGE_HEARTBEAT_INTERVAL',
    default: DEFAULT_PEER_OPTIONS.heartbeatInterval,
    unit: 'ms',
    parse: nonNegativeInt,
    peer: { option: 'heartbeatInterval', dial: true },
    doc: 'converge.v1 ping interval (0: no pings)',
  }),
  option({
    key: 'heartbeatTimeout',
    flag: '--heartbeat-timeout <ms>',
    env: 'CONVERGE_HEARTBEAT_TIMEOUT',
    default: DEFAULT_PEER_OPTIONS.heartbeatTimeout,
    unit: 'ms',
    parse: nonNegativeInt,
    peer: { option: 'heartbeatTimeout', dial: true },
    doc: 'close a converge.v1 peer silent this long (4508); a mesh link is then redialed',
  }),
  option({
    key: 'pingInterval',
    flag: '--ping-interval <ms>',
    env: 'CONVERGE_PING_INTERVAL',
    default: DEFAULT_SERVER_OPTIONS.pingInterval,
    unit: 'ms',
    parse: nonNegativeInt,
    doc: 'WebSocket pings to accepted sockets; a socket that missed a pong is dropped at the next',
  }),
  option({
    key: 'peerId',
    flag: '--peer-id <id>',
    env: 'CONVERGE_PEER_ID',
    defaultText: 'random',
    parse: text,
    doc: "this relay's id in the mesh",
  }),
]
