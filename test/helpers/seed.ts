import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The seed of a random test: `CONVERGE_SEED` when set (a replay), else a fresh one.
 * It prints the seed and the exact command that replays the run, so a failure in CI
 * can be reproduced from its log alone. `testFile` is the test's `import.meta.url`;
 * `env` lists other variables the replay needs (for example a soak size).
 */
export const seedFor = (what: string, testFile: string, env: Record<string, string | number> = {}): number => {
  const given = process.env.CONVERGE_SEED
  // Never 0: lib0's PRNG seeded with 0 yields only zeros.
  const seed = given !== undefined && given !== '' ? Number(given) : 1 + Math.floor(Math.random() * (2 ** 31 - 1))
  if (!Number.isSafeInteger(seed) || seed === 0)
    throw new Error(`CONVERGE_SEED must be a non-zero integer, got ${given}`)
  const file = relative(REPO, fileURLToPath(testFile))
  const vars = Object.entries({ ...env, CONVERGE_SEED: seed })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  console.log(`[${what}] seed ${seed}; replay: ${vars} npx vitest run --config test/vitest.config.ts ${file}`)
  return seed
}

/** A positive integer from the environment, or `fallback`. */
export const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`)
  return n
}

/**
 * Runs `run` with seeds `first`, `first + 1`, … (`runs` of them), one after the other; a
 * failure names its seed and the command that replays it alone (`replay(seed)`).
 */
export const runSeeds = async (
  first: number,
  runs: number,
  replay: (seed: number) => string,
  run: (seed: number) => Promise<void>,
): Promise<void> => {
  for (let i = 0; i < runs; i++) {
    const seed = first + i
    try {
      await run(seed)
    } catch (err) {
      throw new Error(`seed ${seed} failed (replay: ${replay(seed)}): ${(err as Error).message}`)
    }
  }
}
