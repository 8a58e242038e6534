import type { AcceptOptions } from '@converge/core'
import { NATS_OPTION_SPEC } from './cluster/nats-option-spec.js'
import { CHANGE_OPTION_SPEC } from './option-spec-changes.js'
import { LIMIT_OPTION_SPEC } from './option-spec-limits.js'
import { LINK_OPTION_SPEC } from './option-spec-links.js'
import { LOGGING_OPTION_SPEC } from './option-spec-logging.js'
import { NETWORK_OPTION_SPEC } from './option-spec-network.js'
import { SECURITY_OPTION_SPEC } from './option-spec-security.js'
import { SERVER_OPTION_SPEC } from './option-spec-server.js'
import type { ConfigKey, OptionSpec, RelayConfig } from './option-spec-types.js'
import { WEBHOOK_OPTION_SPEC } from './option-spec-webhooks.js'

export { type ConfigKey, LOG_FORMATS, LOG_LEVELS, type OptionSpec, type RelayConfig } from './option-spec-types.js'

/**
 * Every option of `converge relay` / `Relay.start`, in the order of --help and the README.
 * Peer-level defaults are core's DEFAULT_PEER_OPTIONS, replica-level ones DEFAULT_REPLICA_OPTIONS,
 * server-level ones websocket's DEFAULT_SERVER_OPTIONS: referenced here, never repeated.
 */
export const RELAY_OPTION_SPEC: readonly OptionSpec[] = [
  ...NETWORK_OPTION_SPEC,
  ...SECURITY_OPTION_SPEC,
  ...SERVER_OPTION_SPEC,
  ...LIMIT_OPTION_SPEC,
  ...LINK_OPTION_SPEC,
  ...NATS_OPTION_SPEC,
  ...CHANGE_OPTION_SPEC,
  ...WEBHOOK_OPTION_SPEC,
  ...LOGGING_OPTION_SPEC,
]

/** The spec of `key`. */
export const optionSpecOf = (key: ConfigKey): OptionSpec => {
  const spec = RELAY_OPTION_SPEC.find((s) => s.key === key)
  if (spec === undefined) throw new Error(`no relay option ${key}`)
  return spec
}

/** The defaults of every option that has one. */
export const RELAY_DEFAULTS: RelayConfig = Object.fromEntries(
  RELAY_OPTION_SPEC.filter((s) => s.default !== undefined).map((s) => [s.key, s.default]),
) as RelayConfig

/**
 * The peer options a relay gives the links it accepts (`'accept'`) or dials (`'dial'`),
 * from its resolved options. Limits that only guard against clients (documents per
 * connection, the message rate) are not given to dialed mesh links, which are exempt.
 */
export const peerOptionsOf = (options: RelayConfig, link: 'accept' | 'dial'): Partial<AcceptOptions> => {
  const out: Record<string, unknown> = {}
  for (const spec of RELAY_OPTION_SPEC) {
    if (spec.peer === undefined || (link === 'dial' && !spec.peer.dial)) continue
    const value = options[spec.key]
    if (value !== undefined) out[spec.peer.option] = value
  }
  return out as Partial<AcceptOptions>
}

const formatBytes = (n: number): string => {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`
  return `${n} B`
}

/** The default as people read it: `16 MiB`, `10000 ms`, `off`, `none`. */
export const formatDefault = (spec: OptionSpec): string => {
  if (spec.defaultText !== undefined) return spec.defaultText
  const value = spec.default
  if (value === undefined) return 'none'
  if (value === false) return 'off'
  if (typeof value === 'number' && spec.unit === 'bytes') return formatBytes(value)
  if (typeof value === 'number' && spec.unit === 'ms') return `${value} ms`
  return String(value)
}
