import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The workspace root: the nearest folder above this file that holds pnpm-workspace.yaml (works from src and dist). */
export const repoRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
    const up = dirname(dir)
    if (up === dir) throw new Error('no pnpm-workspace.yaml above the benchmark')
    dir = up
  }
}

/** test/bench in the workspace. */
export const benchDir = (): string => join(repoRoot(), 'test', 'bench')

/** Where a benchmark writes its JSON (test/bench/results). */
export const resultsDir = (): string => join(benchDir(), 'results')

/** Where the editing traces live: $CONVERGE_TRACES_DIR, else <repo>/../shared/data/traces. */
export const tracesDir = (): string =>
  process.env.CONVERGE_TRACES_DIR ?? join(repoRoot(), '..', 'shared', 'data', 'traces')

/**
 * The built converge CLI: packages/relay/bin/converge.js, or $BENCH_CONVERGE_CLI (another
 * build of it, to compare a change against the current code in one run).
 */
export const convergeCli = (): string =>
  process.env.BENCH_CONVERGE_CLI ?? join(repoRoot(), 'packages', 'relay', 'bin', 'converge.js')

/** A compiled sibling of the calling module: `dist/.../name.js` next to it. */
export const besideThisFile = (metaUrl: string, name: string): string => join(dirname(fileURLToPath(metaUrl)), name)
