import type { AcceptOptions, PeerOptions } from '@converge/core'
import type { NatsConfig } from './cluster/nats-option-spec.js'
import type { RelayOptions } from './relay-options.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const

/** What `converge relay` is configured with: the relay's options plus how it logs. */
export type RelayConfig = Omit<RelayOptions, 'store' | 'logger' | 'extensions' | 'nats'> &
  NatsConfig & {
    logLevel?: (typeof LOG_LEVELS)[number]
    logFormat?: (typeof LOG_FORMATS)[number]
  }
export type ConfigKey = keyof RelayConfig

/** A peer option a relay option feeds, and whether dialed mesh links get it too (accepted links always do). */
interface PeerTarget {
  option: keyof PeerOptions & keyof AcceptOptions
  dial: boolean
}

/** One relay option, defined once: the CLI, the env, the config file, the defaults and the README derive from it. */
export interface OptionSpec<K extends ConfigKey = ConfigKey> {
  /** Its name in RelayOptions and in converge.config.json. */
  key: K
  /** The CLI flag, as commander spells it (`--port <port>`; no argument: a boolean). */
  flag: string
  env: string
  /** Undefined: none (the relay does without, or the default reads as `defaultText`). */
  default?: RelayConfig[K]
  /** How the default reads when it is not a value ('random', 'none (open)'). */
  defaultText?: string
  unit?: 'ms' | 'bytes'
  /** Parses one value from a flag, the env or the config file; throws OptionValueError. */
  parse: (raw: string) => NonNullable<RelayConfig[K]>
  /** One line for --help and the README. */
  doc: string
  /** Redacted in --print-config. */
  secret?: boolean
  /** The flag may be given more than once (values add up); env and file take a comma-separated list or an array. */
  repeatable?: boolean
  /** The peer option it feeds, for accepted links and (if `dial`) the mesh links this relay dials. */
  peer?: PeerTarget
}

/** Widens one typed spec to the table's element type. */
export const option = <K extends ConfigKey>(spec: OptionSpec<K>): OptionSpec => spec as unknown as OptionSpec
