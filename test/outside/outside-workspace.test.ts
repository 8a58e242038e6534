import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../bench/lib/free-port.js'
import { browserRequired, findChromium, launchChromium } from '../e2e/chromium.js'
import { REPO } from '../e2e/vite-build.js'
import { waitFor } from '../helpers/wait.js'

/**
 * The packages as a developer outside this workspace gets them: `pnpm pack` of each, then a
 * new npm project in the OS temp directory that installs the tarballs with npm alone. Slow
 * (an npm install and a Vite build), so it is one file with one install.
 */

const PACKAGES = ['core', 'level', 'websocket', 'relay']
/** How long packing, installing and building may take, in ms (npm downloads on a cold cache). */
const SETUP_TIMEOUT = 600_000
/** How long one command of a step may take, in ms. */
const STEP_TIMEOUT = 240_000
const ADMIN_TOKEN = 'outside-admin-token'
const HERE = join(REPO, 'test/outside')

/** The environment for npm, npx and vite: without what pnpm and vitest set for their own children. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|VITEST|NODE_ENV$|NODE_OPTIONS$)/.test(k)) continue
    env[k] = v
  }
  return env
}

const run = async (command: string, args: string[], cwd: string, env = cleanEnv()): Promise<string> => {
  try {
    const { stdout } = await promisify(execFile)(command, args, {
      cwd,
      env,
      timeout: STEP_TIMEOUT,
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

/** The version the workspace itself uses of `name`, so the outside project tests the same tools. */
const workspaceVersion = async (dir: string, name: string): Promise<string> =>
  (JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

/** The README's "Embed a replica (Node)" program, pointed at `url`. */
const readmeSnippet = async (url: string): Promise<string> => {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8')
  const section = readme.split('## Embed a replica (Node)')[1] ?? ''
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1]
  if (code === undefined) throw new Error('README.md has no js block under "Embed a replica (Node)"')
  if (!code.includes('ws://localhost:1234')) throw new Error('the README snippet no longer dials ws://localhost:1234')
  return code.replaceAll('ws://localhost:1234', url)
}

/** A process group started with spawn(detached), so npx and the node it runs stop together. */
const stopGroup = async (child: ChildProcess | undefined): Promise<void> => {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(-child.pid, 'SIGTERM')
  await exited
}

describe('the packed packages in a new npm project outside the workspace', () => {
  let root = ''
  let project = ''
  let relay: ChildProcess | undefined
  let relayOutput = ''
  let port = 0

  const admin = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/docs/${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    if (res.status !== 200) throw new Error(`admin API answered ${res.status} for ${path}`)
    return (await res.json()) as { content: Record<string, unknown> }
  }

  beforeAll(async () => {
    for (const p of PACKAGES) {
      if (!existsSync(join(REPO, 'packages', p, 'dist/index.js'))) {
        throw new Error(`packages/${p}/dist is missing: run \`pnpm run build\` first (npm test does)`)
      }
    }
    root = join(tmpdir(), `converge-outside-${process.pid}-${Date.now().toString(36)}`)
    const packs = join(root, 'packs')
    project = join(root, 'app')
    await mkdir(packs, { recursive: true })
    await mkdir(join(project, 'web'), { recursive: true })

    // pnpm pack rewrites workspace: and catalog: versions and applies publishConfig.
    for (const p of PACKAGES) {
      await run('npx', ['--yes', 'pnpm@10.34.8', 'pack', '--pack-destination', packs], join(REPO, 'packages', p))
    }
    const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).map((f) => join(packs, f))
    expect(tarballs).toHaveLength(PACKAGES.length)

    const tools = [
      `vite@${await workspaceVersion(join(REPO, 'demos/web'), 'vite')}`,
      `typescript@${await workspaceVersion(REPO, 'typescript')}`,
      `@types/node@${await workspaceVersion(REPO, '@types/node')}`,
      `yjs@${await workspaceVersion(join(REPO, 'packages/core'), 'yjs')}`,
    ]
    await writeFile(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'converge-outside', private: true, type: 'module' }, null, 2)}\n`,
    )
    // Only npm; its own cache (~/.npm) keeps repeated runs offline-fast.
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs, ...tools],
      project,
    )

    await copyFile(join(HERE, 'app/index.html'), join(project, 'web/index.html'))
    await copyFile(join(HERE, 'app/main.ts'), join(project, 'web/main.ts'))
    // npx runs the installed bins (nothing is fetched). Never `npx --no ...`: npm 11 then
    // takes the command's flags (--version, -p) for its own.
    // A stock Vite build: no config file, no polyfills, no resolve conditions.
    await run('npx', ['vite', 'build', 'web', '--logLevel', 'warn'], project, {
      ...cleanEnv(),
      NODE_ENV: 'production',
    })

    port = await freePort()
    relay = spawn(
      'npx',
      [
        '@converge/relay',
        'relay',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--data',
        join(root, 'relay-data'),
        '--static',
        join(project, 'web/dist'),
        '--admin-token',
        ADMIN_TOKEN,
        '--log-level',
        'warn',
      ],
      { cwd: project, env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    relay.stdout?.on('data', (d) => {
      relayOutput += d
    })
    relay.stderr?.on('data', (d) => {
      relayOutput += d
    })
    const started = relay
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`the relay exited with ${started.exitCode}:\n${relayOutput}`)
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
        return res?.status === 200
      },
      { timeout: 60_000, what: 'the relay started by `npx @converge/relay relay` to be ready' },
    )
  }, SETUP_TIMEOUT)

  afterAll(async () => {
    await stopGroup(relay)
    if (root !== '') await rm(root, { recursive: true, force: true })
  })

  it('the packed manifests name versions, not workspace: or catalog:, and export no TypeScript sources', async () => {
    for (const p of PACKAGES) {
      const text = await readFile(join(project, 'node_modules/@converge', p, 'package.json'), 'utf8')
      expect(text, p).not.toMatch(/"(workspace|catalog):/)
      expect(text, p).not.toContain('@converge/source')
      const manifest = JSON.parse(text) as { version: string; peerDependencies?: Record<string, string> }
      expect(manifest.version, p).toMatch(/^\d+\.\d+\.\d+/)
      if (p !== 'websocket') expect(manifest.peerDependencies?.yjs, p).toMatch(/^\^13\./)
    }
    // The published exports are the workspace's without the source condition: none is forgotten.
    const withoutSource = (value: unknown): unknown =>
      typeof value !== 'object' || value === null
        ? value
        : Object.fromEntries(
            Object.entries(value)
              .filter(([k]) => k !== '@converge/source')
              .map(([k, v]) => [k, withoutSource(v)]),
          )
    for (const p of PACKAGES) {
      const manifest = JSON.parse(await readFile(join(REPO, 'packages', p, 'package.json'), 'utf8')) as {
        exports: unknown
        publishConfig: { exports: unknown }
      }
      expect(manifest.publishConfig.exports, p).toEqual(withoutSource(manifest.exports))
    }
    // One copy of Yjs in the app: the packages take the app's.
    expect(existsSync(join(project, 'node_modules/@converge/core/node_modules/yjs'))).toBe(false)
  })

  it('`npx @converge/relay --version` prints the package version', async () => {
    const manifest = JSON.parse(await readFile(join(project, 'node_modules/@converge/relay/package.json'), 'utf8')) as {
      version: string
    }
    const out = await run('npx', ['@converge/relay', '--version'], project)
    expect(out.trim()).toBe(manifest.version)
  })

  it(
    "the README's Node embed snippet, run as written, saves its edit on a relay started with npx @converge/relay",
    async () => {
      const program = join(project, 'embed.mjs')
      await writeFile(program, await readmeSnippet(`ws://127.0.0.1:${port}`))
      await run(process.execPath, [program], project)
      expect((await admin('notes')).content).toMatchObject({ body: 'hello from Node\n' })
      expect((await stat(join(project, 'my-replica'))).isDirectory()).toBe(true)
    },
    STEP_TIMEOUT,
  )

  it(
    'one Yjs: a document from the installed Replica is an instance of the app’s Y.Doc',
    async () => {
      const check = join(project, 'one-yjs.mjs')
      await writeFile(
        check,
        [
          "import { MemoryStore, Replica } from '@converge/core'",
          "import * as Y from 'yjs'",
          'const replica = new Replica({ store: new MemoryStore() })',
          "const doc = await replica.open('x')",
          'console.log(doc instanceof Y.Doc)',
          'await replica.destroy()',
        ].join('\n'),
      )
      expect((await run(process.execPath, [check], project)).trim()).toBe('true')
    },
    STEP_TIMEOUT,
  )

  it(
    'a consumer file type-checks against the installed packages with skipLibCheck false',
    async () => {
      await copyFile(join(HERE, 'consumer/consumer.ts'), join(project, 'consumer.ts'))
      const tsconfig = {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          // Yjs's own declarations name DOM types (Document, Node), so any Yjs app needs DOM.
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }
      await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
      await run('npx', ['tsc', '-p', 'tsconfig.json'], project)
    },
    STEP_TIMEOUT,
  )

  const chromium = findChromium()
  const inChromium =
    'a stock Vite build of an app on the @converge/level browser build runs in Chromium, opens an IndexedDB replica and reaches saved'
  if (chromium.path === undefined && !browserRequired) {
    console.log(
      `[outside] SKIPPED "${inChromium}": ${chromium.reason}. Install Chromium (apt-get install chromium) or set CONVERGE_CHROMIUM; CI requires it.`,
    )
  }
  it.skipIf(chromium.path === undefined && !browserRequired)(
    inChromium,
    async () => {
      if (chromium.path === undefined) throw new Error(`${chromium.reason} (CONVERGE_REQUIRE_BROWSER=1)`)
      let browser: Browser | undefined
      try {
        browser = await launchChromium(chromium.path)
        const page = await browser.newPage()
        const errors: string[] = []
        page.on('pageerror', (err) => errors.push(err.message))
        await page.goto(`http://127.0.0.1:${port}/?doc=outside-browser`)
        await page
          .waitForFunction(() => document.querySelector('#status')?.textContent === 'saved', undefined, {
            timeout: 60_000,
          })
          .catch(async (err) => {
            const shown = await page.textContent('#status')
            throw new Error(`the page shows "${shown}", page errors: ${errors.join('; ') || 'none'}`, { cause: err })
          })
        expect(errors).toEqual([])
        expect((await admin('outside-browser')).content).toMatchObject({ body: 'hello from a browser\n' })
      } finally {
        await browser?.close()
      }
    },
    STEP_TIMEOUT,
  )
})
