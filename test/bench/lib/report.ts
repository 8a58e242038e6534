import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { benchDir, repoRoot, resultsDir } from './paths.js'

/** Facts about the machine and the code, printed with every result. */
export interface MachineFacts {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  loadAverage: number[]
  commit: string
  /** Versions of the servers and clients compared, as installed. */
  versions: Record<string, string>
}

const versionOf = (pkg: string): string => {
  try {
    // Resolve from the bench package, where the anchors are devDependencies.
    const require = createRequire(join(benchDir(), 'package.json'))
    let dir: string
    try {
      dir = dirname(require.resolve(`${pkg}/package.json`))
    } catch {
      // Packages that do not export their package.json: start from the main entry.
      dir = dirname(require.resolve(pkg))
    }
    for (let i = 0; i < 6; i++) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
        if (json.name === pkg && json.version !== undefined) return json.version
      } catch {
        // not here; look further up
      }
      dir = dirname(dir)
    }
  } catch {
    // not installed
  }
  return 'unknown'
}

const git = (...args: string[]): string =>
  spawnSync('git', args, { cwd: repoRoot(), encoding: 'utf8' }).stdout?.trim() ?? ''

export const machineFacts = (packages: string[]): MachineFacts => {
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== ''
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()}`,
    node: process.version,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    commit: `${git('rev-parse', '--short', 'HEAD') || 'unknown'}${dirty ? ' (with uncommitted changes)' : ''}`,
    versions: Object.fromEntries(packages.map((p) => [p, versionOf(p)])),
  }
}

export const describeMachine = (m: MachineFacts): string =>
  [
    `machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, load average ${m.loadAverage.join(' ')}`,
    `code: converge ${m.commit}; ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ].join('\n')

export type Cell = string | number | undefined

/** A right-aligned markdown table; numbers are formatted with `digits` significant decimals. */
export const table = (headers: string[], rows: Cell[][]): string => {
  const text = rows.map((r) => r.map(formatCell))
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(headers), rule, ...text.map(line)].join('\n')
}

export const formatCell = (c: Cell): string => {
  if (c === undefined) return '–'
  if (typeof c === 'string') return c
  if (!Number.isFinite(c)) return '–'
  if (Number.isInteger(c)) return c.toLocaleString('en-US')
  const abs = Math.abs(c)
  if (abs >= 1000) return Math.round(c).toLocaleString('en-US')
  if (abs >= 100) return c.toFixed(0)
  if (abs >= 10) return c.toFixed(1)
  return c.toFixed(2)
}

/** "×1.85": how many times better converge is than `value` (> 1: converge better). */
export const advantage = (converge: number, value: number, higherIsBetter: boolean): string => {
  if (!Number.isFinite(converge) || !Number.isFinite(value) || converge <= 0 || value <= 0) return '–'
  const r = higherIsBetter ? converge / value : value / converge
  return `×${r >= 10 ? r.toFixed(1) : r.toFixed(2)}`
}

export const mib = (bytes: number): number => bytes / 2 ** 20
export const kib = (bytes: number): number => bytes / 1024

/** Writes `test/bench/results/<name>.json` and returns its path. */
export const writeResults = async (name: string, results: unknown): Promise<string> => {
  const dir = resultsDir()
  await mkdir(dir, { recursive: true })
  const file = join(dir, `${name}.json`)
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`)
  return file
}

/**
 * Runs a benchmark's `main` and exits at once when it is done: 0 when it resolves, 1 after
 * printing the error when it rejects (nothing left open, a socket or a child, keeps the run going).
 */
export const runMain = (main: () => Promise<void>): void => {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
