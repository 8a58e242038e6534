import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** The cores the mandate pins to: the server under test on one, the load generator on the other. */
export const SERVER_CPU = 0
export const LOAD_CPU = 1

let available: boolean | undefined

/** `taskset` (util-linux) is present and the machine has at least two cores to split. */
export const canPin = (): boolean => {
  available ??=
    process.platform === 'linux' &&
    availableParallelism() >= 2 &&
    spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0
  return available
}

/** `argv` prefixed with `taskset -c <cpu>` when pinning is possible. */
export const pinnedArgv = (cpu: number, argv: string[]): string[] =>
  canPin() ? ['taskset', '-c', String(cpu), ...argv] : argv

/**
 * Pins this process, all its threads included (libuv's pool too), to `cpu`. Returns a line
 * for the report saying what happened.
 */
export const pinSelf = (cpu: number): string => {
  if (!canPin()) return 'not pinned (taskset unavailable or fewer than 2 cores): figures are less comparable'
  const r = spawnSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { encoding: 'utf8' })
  if (r.status !== 0) return `pinning the load generator failed: ${r.stderr.trim()}`
  return `load generator pinned with taskset -a -cp ${cpu} (servers with taskset -c ${SERVER_CPU})`
}
