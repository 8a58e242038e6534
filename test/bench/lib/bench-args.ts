/** A benchmark's command line: its flags, the sizes they set, the lists they name. */
import { type ParseArgsConfig, parseArgs } from 'node:util'

/** This process's arguments, without the `--` that `pnpm run script -- …` passes on. */
export const cliArgs = (): string[] => {
  const argv = process.argv.slice(2)
  return argv[0] === '--' ? argv.slice(1) : argv
}

/** The command line that produced a result, as a user would type it from the repo root. */
export const commandLine = (script: string): string =>
  [script, ...cliArgs().map((a) => (/^[\w./:=,@-]+$/.test(a) ? a : JSON.stringify(a)))].join(' ')

/** Parses this process's flags (see `cliArgs`) against `options`; unknown flags throw. */
export const parseBenchArgs = <O extends NonNullable<ParseArgsConfig['options']>>(options: O) =>
  parseArgs({ args: cliArgs(), options })

/** A whole-number flag (`--edits 500`), or `fallback` when it was not given. */
export const intArg = (value: string | undefined, fallback: number): number =>
  value === undefined ? fallback : Number.parseInt(value, 10)

/** A comma-separated list flag whose every item is one of `known`; an unknown item throws, naming `what`. */
export const listArg = <T extends string>(value: string, known: readonly T[], what: string): T[] => {
  const items = value.split(',').filter(Boolean) as T[]
  for (const item of items) if (!known.includes(item)) throw new Error(`unknown ${what} ${item} (${known.join(', ')})`)
  return items
}
