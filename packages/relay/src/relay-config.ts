import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { OptionValueError } from './option-parsers.js'
import { type ConfigKey, type OptionSpec, RELAY_OPTION_SPEC, type RelayConfig } from './option-spec.js'

/** The config file read from the working directory when no --config is given. */
export const CONFIG_FILE_NAME = 'converge.config.json'

/** Where an option's value came from; precedence flag > env > file > default. */
export type OptionSource = 'flag' | 'env' | 'file' | 'default'

export interface ConfigFile {
  path: string
  values: Record<string, unknown>
}

export interface ResolvedConfig {
  values: RelayConfig
  sources: Partial<Record<ConfigKey, OptionSource>>
  file: string | undefined
}

/** A configuration that cannot be used; its message names the flag, variable or file key at fault. */
export class ConfigError extends Error {}

/**
 * Reads the config file: `path` when given (it must exist), else ./converge.config.json in
 * `cwd` when present, else none. Keys are the option spec's names; an unknown key is an error.
 */
export const readConfigFile = async (path: string | undefined, cwd: string): Promise<ConfigFile | undefined> => {
  const file = resolve(cwd, path ?? CONFIG_FILE_NAME)
  if (path === undefined && !existsSync(file)) return undefined
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  let values: unknown
  try {
    values = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`the config file ${file} is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError(`the config file ${file} must hold one JSON object of options`)
  }
  const known = new Set<string>(RELAY_OPTION_SPEC.map((s) => s.key))
  for (const key of Object.keys(values)) {
    if (!known.has(key)) {
      throw new ConfigError(`${file}: unknown option "${key}" (known: ${[...known].join(', ')})`)
    }
  }
  return { path: file, values: values as Record<string, unknown> }
}

const kindOf = (spec: OptionSpec): 'list' | 'boolean' | 'number' | 'string' =>
  spec.repeatable
    ? 'list'
    : typeof spec.default === 'boolean'
      ? 'boolean'
      : typeof spec.default === 'number'
        ? 'number'
        : 'string'

const parseAs = (spec: OptionSpec, raw: string, where: string): unknown => {
  try {
    return spec.parse(raw)
  } catch (err) {
    if (err instanceof OptionValueError) throw new ConfigError(`${where}: ${err.message}`)
    throw err
  }
}

const fromFile = (spec: OptionSpec, value: unknown, file: string): unknown => {
  const where = `${file}: "${spec.key}"`
  const kind = kindOf(spec)
  if (kind === 'list' && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return parseAs(spec, value.join(','), where)
  }
  if (typeof value === kind || (kind === 'list' && typeof value === 'string')) {
    return parseAs(spec, String(value), where)
  }
  const expected = kind === 'list' ? 'an array of strings' : `a ${kind}`
  throw new ConfigError(`${where} must be ${expected}, not ${JSON.stringify(value)}`)
}

/**
 * The effective configuration, each value from the first layer that sets it:
 * flags (already parsed), then environment variables, then the config file, then the defaults.
 */
export const resolveConfig = (layers: {
  flags: Partial<Record<ConfigKey, unknown>>
  env: Record<string, string | undefined>
  file?: ConfigFile
}): ResolvedConfig => {
  const values: Record<string, unknown> = {}
  const sources: Partial<Record<ConfigKey, OptionSource>> = {}
  for (const spec of RELAY_OPTION_SPEC) {
    const flag = layers.flags[spec.key]
    const env = layers.env[spec.env]
    let value: unknown
    let source: OptionSource | undefined
    if (flag !== undefined) [value, source] = [flag, 'flag']
    else if (env !== undefined && env !== '') [value, source] = [parseAs(spec, env, `${spec.env}=${env}`), 'env']
    else if (layers.file !== undefined && layers.file.values[spec.key] !== undefined) {
      ;[value, source] = [fromFile(spec, layers.file.values[spec.key], layers.file.path), 'file']
    } else if (spec.default !== undefined) [value, source] = [spec.default, 'default']
    if (source === undefined) continue
    values[spec.key] = value
    sources[spec.key] = source
  }
  return { values: values as RelayConfig, sources, file: layers.file?.path }
}

/** The effective configuration as text: one line per option with its value (secrets redacted) and source. */
export const formatConfig = (config: ResolvedConfig): string => {
  const width = Math.max(...RELAY_OPTION_SPEC.map((s) => s.key.length))
  const lines = [
    `# converge relay: effective configuration (${config.file === undefined ? 'no config file' : `config file ${config.file}`})`,
    '# precedence: flag > env > file > default',
  ]
  for (const spec of RELAY_OPTION_SPEC) {
    const value = config.values[spec.key]
    const source = config.sources[spec.key]
    const shown = value === undefined ? '(none)' : spec.secret ? '"<redacted>"' : JSON.stringify(value)
    const from = source === 'env' ? `env ${spec.env}` : (source ?? '')
    lines.push(`${spec.key.padEnd(width)}  ${shown.padEnd(24)}  ${from}`.trimEnd())
  }
  return `${lines.join('\n')}\n`
}
