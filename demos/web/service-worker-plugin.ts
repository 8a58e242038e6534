import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { Plugin, ResolvedConfig } from 'vite'

/** Every file under `dir`, as URL paths relative to it. */
const listFiles = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => `/${relative(dir, join(e.parentPath, e.name)).split(sep).join('/')}`)
    .sort()
}

/**
 * Writes `sw.js` next to the build: the service worker template with the list of shell
 * files and a version that is a hash of their bytes, so each build that changes anything
 * ships a worker browsers see as new (they compare the worker's bytes).
 */
export const serviceWorker = (template: string): Plugin => {
  let config: ResolvedConfig
  return {
    name: 'converge-service-worker',
    apply: 'build',
    configResolved(resolved) {
      config = resolved
    },
    async closeBundle() {
      const outDir = config.build.outDir
      const files = (await listFiles(outDir)).filter((f) => !f.endsWith('.map') && f !== '/sw.js')
      const hash = createHash('sha256')
      for (const f of files) hash.update(f).update(await readFile(join(outDir, f)))
      const version = hash.digest('hex').slice(0, 16)
      const shell = ['/', ...files]
      const source = await readFile(template, 'utf8')
      const header = `const SHELL_VERSION = ${JSON.stringify(version)}\nconst SHELL_FILES = ${JSON.stringify(shell, null, 2)}\n\n`
      await writeFile(join(outDir, 'sw.js'), header + source)
    },
  }
}
