/**
 * The V8 setting the `converge` command runs the relay with: a young generation that does
 * not grow. V8 starts each of the young generation's two semi-spaces at 1 MiB and doubles
 * them (up to 16 MiB each on 64-bit) whenever many objects survive a scavenge; a relay does
 * that while it loads and whenever many documents open at once, and the pages stay resident
 * until V8's memory reducer shrinks them, seconds to minutes later. With a growth factor of
 * 1 they stay at 1 MiB: measured under the servers bench (test/bench/results/PROFILE-NOTES.md,
 * "Memory floor with LevelDB; V8's young generation"), RSS per open document falls by ~20 KiB
 * (a third), with no harm seen in throughput, join storms or fan-out.
 *
 * It must be set before the heap grows, so before the relay's modules load: the CLI launcher
 * (bin/converge.js) calls `applyV8Defaults` first, then imports the CLI. V8 reads the growth
 * factor at each growth, so `v8.setFlagsFromString` takes effect at run time (the semi-space
 * size flags do not: V8 reads those only when the heap is made).
 */
import { setFlagsFromString } from 'node:v8'

/** The environment variable that sets the young generation's growth factor: a whole number ≥ 1, or `off` (V8's own, 2). */
export const YOUNG_GROWTH_ENV = 'CONVERGE_V8_YOUNG_GROWTH'

/** The growth factor the relay runs with unless `CONVERGE_V8_YOUNG_GROWTH` or node's own flags say otherwise. Default 1. */
export const YOUNG_GROWTH_DEFAULT = 1

/** Node flags that size or grow the young generation: when the user passed one (command line or NODE_OPTIONS), it wins. */
const YOUNG_FLAG =
  /^--(?:max-semi-space-size|min-semi-space-size|semi-space-growth-factor|max_semi_space_size|min_semi_space_size|semi_space_growth_factor)(?:=|$)/

/**
 * Sets V8's young-generation growth factor for this process (`--semi-space-growth-factor`),
 * unless node was started with a young-generation flag of its own or `CONVERGE_V8_YOUNG_GROWTH`
 * is `off`. Returns the flag it set, or undefined. Throws on a value that is not `off` or a
 * whole number ≥ 1.
 */
export const applyV8Defaults = (
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): string | undefined => {
  const nodeFlags = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]
  if (nodeFlags.some((flag) => YOUNG_FLAG.test(flag))) return undefined
  const value = env[YOUNG_GROWTH_ENV]?.trim() || String(YOUNG_GROWTH_DEFAULT)
  if (value === 'off') return undefined
  const factor = Number(value)
  if (!Number.isInteger(factor) || factor < 1) {
    throw new Error(`${YOUNG_GROWTH_ENV} must be off or a whole number ≥ 1, not ${JSON.stringify(value)}`)
  }
  const flag = `--semi-space-growth-factor=${factor}`
  setFlagsFromString(flag)
  return flag
}
