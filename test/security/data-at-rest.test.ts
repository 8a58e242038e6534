import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Relay } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { adminArgs } from '../helpers/admin.js'
import { CLI, RelayProcess, tempDir } from '../helpers/relay-process.js'
import { nodeReplica } from '../helpers/replicas.js'
import { after, httpUrl, startRelay } from './harness.js'

// Item 12: what another local user, or a planted file, can do to the data at rest.

const run = promisify(execFile)
const mode = async (path: string) => (await stat(path)).mode & 0o777

/** Every regular file under `dir`, recursively. */
const filesOf = async (dir: string): Promise<string[]> => {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await filesOf(join(dir, e.name))))
    else if (e.isFile()) out.push(join(dir, e.name))
  }
  return out
}

describe('permissions of the data at rest', () => {
  it('the relay creates its data directory 0700 and every file in it 0600 (LevelDB, revocations)', async () => {
    const root = await tempDir('perms')
    const relay = await RelayProcess.start({ data: join(root, 'data'), extraArgs: adminArgs })
    after(() => relay.dispose())
    const client = await nodeReplica(relay.url)
    after(() => client.dispose())
    const doc = await client.replica.open('private')
    doc.getText('t').insert(0, 'nobody else reads this')
    await client.replica.whenSaved('private', { timeout: 5000 })
    const res = await fetch(`${relay.httpUrl}/api/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminArgs[1]}` },
      body: JSON.stringify({ sub: 'someone' }),
    })
    expect(res.status).toBe(201)
    await relay.stop()
    expect(await mode(relay.data)).toBe(0o700)
    const files = await filesOf(relay.data)
    expect(files.some((f) => f.endsWith('revocations.json'))).toBe(true)
    for (const f of files) expect([f, await mode(f)]).toEqual([f, 0o600])
  })

  it('a data directory that exists with loose permissions is tightened at start', async () => {
    const data = await tempDir('loose')
    await mkdir(data, { recursive: true, mode: 0o755 })
    await writeFile(join(data, 'stale.txt'), 'x', { mode: 0o644 })
    const relay = await Relay.start({ host: '127.0.0.1', port: 0, data, logger: false })
    await relay.stop()
    expect(await mode(data)).toBe(0o700)
    expect(await mode(join(data, 'stale.txt'))).toBe(0o600)
  })
})

describe('converge backup', () => {
  it('does not follow a symlink planted at <out>.partial, and writes the backup 0600', async () => {
    const dir = await tempDir('planted')
    const data = join(dir, 'data')
    const relay = await Relay.start({ host: '127.0.0.1', port: 0, data, logger: false })
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'backed up')
    await relay.replica.applyUpdate('doc', Y.encodeStateAsUpdate(doc))
    await relay.stop()
    const victim = join(dir, 'victim.txt')
    await writeFile(victim, 'precious')
    const out = join(dir, 'out.backup')
    await symlink(victim, `${out}.partial`)
    await run(process.execPath, [CLI, 'backup', '--data', data, '--out', out])
    expect(await readFile(victim, 'utf8')).toBe('precious')
    expect((await readFile(out)).subarray(0, 18).toString()).toBe('converge-backup v1')
    expect(await mode(out)).toBe(0o600)
  })
})

describe('static files', () => {
  it('a symlink inside the served directory that points outside it is refused (403)', async () => {
    const dir = await tempDir('static')
    const root = join(dir, 'site')
    await mkdir(root)
    await writeFile(join(root, 'index.html'), '<!doctype html><title>app</title>')
    await writeFile(join(dir, 'secret.txt'), 'outside the root')
    await symlink(join(dir, 'secret.txt'), join(root, 'leak.txt'))
    await symlink(dir, join(root, 'parent'))
    const relay = await startRelay({ static: root })
    const base = httpUrl(relay)
    expect((await fetch(`${base}/leak.txt`)).status).toBe(403)
    expect((await fetch(`${base}/parent/secret.txt`)).status).toBe(403)
    expect((await fetch(`${base}/%2e%2e/secret.txt`)).status).not.toBe(200)
    expect(await (await fetch(`${base}/index.html`)).text()).toContain('<title>app</title>')
  })
})
