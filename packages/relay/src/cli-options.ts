import { type Command, InvalidArgumentError, Option } from 'commander'
import { OptionValueError } from './option-parsers.js'
import { type ConfigKey, formatDefault, type OptionSpec, RELAY_OPTION_SPEC } from './option-spec.js'
import { CONFIG_FILE_NAME, type ResolvedConfig, readConfigFile, resolveConfig } from './relay-config.js'

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A repeated flag adds up: lists concatenate, maps (`--auth-key a=x --auth-key b=y`) merge. */
const combine = (previous: unknown, value: unknown): unknown => {
  if (Array.isArray(previous) && Array.isArray(value)) return [...previous, ...value]
  if (isRecord(previous) && isRecord(value)) return { ...previous, ...value }
  return value
}

const argParser = (spec: OptionSpec) => (raw: string, previous: unknown) => {
  try {
    const value = spec.parse(raw)
    return spec.repeatable ? combine(previous, value) : value
  } catch (err) {
    if (err instanceof OptionValueError) throw new InvalidArgumentError(err.message)
    throw err
  }
}

/**
 * Adds every option of the spec to `command`, plus --config and --print-config. The env
 * and default show in --help; their values are applied by `relayConfigOf`, between the
 * flags and the config file, so the precedence stays flag > env > file > default.
 */
export const addRelayOptions = (command: Command): Command => {
  for (const spec of RELAY_OPTION_SPEC) {
    const repeat = spec.repeatable ? ', repeatable' : ''
    const option = new Option(spec.flag, `${spec.doc} (default: ${formatDefault(spec)}; env: ${spec.env}${repeat})`)
    if (spec.flag.includes('<')) option.argParser(argParser(spec))
    command.addOption(option)
  }
  return command
    .addOption(
      new Option(
        '--config <file>',
        `config file, JSON with the option names as keys (default: ./${CONFIG_FILE_NAME} if present)`,
      ),
    )
    .addOption(
      new Option('--print-config', 'print the effective configuration and where each value came from, then exit'),
    )
}

/** The effective configuration of a parsed `converge relay` command. */
export const relayConfigOf = async (
  command: Command,
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Promise<ResolvedConfig> => {
  const opts = command.opts()
  const flags: Partial<Record<ConfigKey, unknown>> = {}
  for (const spec of RELAY_OPTION_SPEC) {
    const attribute = new Option(spec.flag).attributeName()
    if (command.getOptionValueSource(attribute) === 'cli') flags[spec.key] = opts[attribute]
  }
  const file = await readConfigFile(opts.config as string | undefined, cwd)
  return resolveConfig({ flags, env, file })
}
