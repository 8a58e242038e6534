import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const DEMO_DIR = join(REPO, 'demos/web')
export const DEMO_DIST = join(DEMO_DIR, 'dist')
// The demo's own vite: the test package does not depend on vite.
const VITE = join(DEMO_DIR, 'node_modules/vite/bin/vite.js')

/** How long a vite build may take, in ms. */
export const VITE_BUILD_TIMEOUT = 180_000

/** Newest modification time of the files under `paths` (skipping dist, node_modules and tests). */
const newest = async (paths: string[]): Promise<number> => {
  let latest = 0
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (info === undefined) continue
    if (info.isFile()) {
      latest = Math.max(latest, info.mtimeMs)
      continue
    }
    const entries = await readdir(path, { recursive: true, withFileTypes: true })
    for (const e of entries) {
      const full = join(e.parentPath, e.name)
      if (!e.isFile() || /(^|\/)(dist|node_modules)\//.test(full) || e.name.endsWith('.test.ts')) continue
      latest = Math.max(latest, (await stat(full)).mtimeMs)
    }
  }
  return latest
}

const PACKAGE_SOURCES = ['core', 'level', 'websocket'].map((p) => join(REPO, 'packages', p, 'src'))

/**
 * Runs `vite build` for `root` unless `marker` (a file the build writes) is newer than
 * every source. `npm test` builds the demo first (the root `build` script), so this only
 * builds when tests run alone after an edit.
 */
export const viteBuild = async (options: { root: string; config?: string; marker: string; sources: string[] }) => {
  const built = existsSync(options.marker) ? (await stat(options.marker)).mtimeMs : 0
  if (built > 0 && built >= (await newest([...options.sources, ...PACKAGE_SOURCES]))) return
  const args = [VITE, 'build', '--logLevel', 'warn']
  if (options.config !== undefined) args.push('--config', options.config)
  // vitest sets NODE_ENV=test, which would make vite build a development bundle.
  const env = { ...process.env, NODE_ENV: 'production' }
  await promisify(execFile)(process.execPath, args, { cwd: options.root, timeout: VITE_BUILD_TIMEOUT, env })
}

/**
 * Builds the test page of test/e2e/<name> (by its own vite.config.mjs, whose outDir is
 * test-output/e2e/<name>-page) unless it is newer than its sources; resolves with that folder.
 */
export const buildTestPage = async (name: string): Promise<string> => {
  const root = join(REPO, 'test/e2e', name)
  const dist = join(REPO, 'test-output/e2e', `${name}-page`)
  await viteBuild({ root, config: join(root, 'vite.config.mjs'), marker: join(dist, 'index.html'), sources: [root] })
  return dist
}

/** Builds demos/web into demos/web/dist if it is missing or older than its sources. */
export const ensureDemoBuilt = () =>
  viteBuild({
    root: DEMO_DIR,
    marker: join(DEMO_DIST, 'sw.js'),
    sources: ['index.html', 'src', 'public', 'service-worker.js', 'service-worker-plugin.ts', 'vite.config.ts'].map(
      (p) => join(DEMO_DIR, p),
    ),
  })
