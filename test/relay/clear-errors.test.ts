import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { MemoryStore } from '@converge/core'
import { Relay, writeBackup } from '@converge/relay'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ADMIN_TOKEN, adminArgs } from '../helpers/admin.js'
import { CLI, freePort, RelayProcess, tempDir } from '../helpers/relay-process.js'

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

/** Runs the converge CLI to its end (at most 20 s) and returns its exit code and output. */
const converge = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
  new Promise<Outcome>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 20_000, cwd: options.cwd, env: { ...process.env, ...options.env } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const scratch = async () => {
  const dir = await tempDir('errors')
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** An in-process relay with the admin API, on a free port. */
const adminRelay = async () => {
  const relay = await Relay.start({
    host: '127.0.0.1',
    port: 0,
    store: new MemoryStore(),
    logger: false,
    adminToken: 'T',
  })
  cleanup.push(() => relay.stop())
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${relay.port}/api/docs${path}`, {
      ...init,
      headers: { authorization: 'Bearer T', ...init.headers },
    })
  return { relay, api }
}

describe('errors a person can act on', () => {
  it('a data directory held by a running relay is "in use by another relay (pid N)", for relay and inspect alike', async () => {
    const first = await RelayProcess.start()
    cleanup.push(() => first.dispose())
    const second = await converge([
      'relay',
      '--host',
      '127.0.0.1',
      '--port',
      String(await freePort()),
      '--data',
      first.data,
    ])
    expect(second.code).toBe(1)
    const expected = `data directory ${first.data} is in use by another relay (pid ${first.child?.pid})`
    expect(second.stderr).toContain(expected)
    expect(second.stderr).not.toMatch(/Database failed to open/)
    const inspect = await converge(['inspect', '--data', first.data])
    expect(inspect.code).toBe(1)
    expect(inspect.stderr).toContain(expected)
  })

  it('a port in use says so and how to choose another (--port or PORT)', async () => {
    const holder: Server = createServer()
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    )
    cleanup.push(() => new Promise((resolve) => holder.close(() => resolve())))
    const data = join(await scratch(), 'data')
    const out = await converge(['relay', '--host', '127.0.0.1', '--port', String(port), '--data', data])
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(
      `port ${port} on 127.0.0.1 is already in use (another relay?): choose another with --port or PORT`,
    )
  })

  it('inspect --data of a missing directory fails, exits non-zero and creates nothing', async () => {
    const missing = join(await scratch(), 'no-such-data')
    const out = await converge(['inspect', '--data', missing])
    expect(out.code).not.toBe(0)
    expect(out.stderr).toContain(`no data directory at ${missing}`)
    expect(existsSync(missing)).toBe(false)
    const backup = await converge(['backup', '--data', missing, '--out', join(missing, '..', 'x.backup')])
    expect(backup.code).not.toBe(0)
    expect(existsSync(missing)).toBe(false)
  })

  it('backup --url to a port where nothing listens names the URL and says nothing listens, leaving no file', async () => {
    const port = await freePort()
    const dir = await scratch()
    const out = await converge([
      'backup',
      '--url',
      `http://127.0.0.1:${port}`,
      '--admin-token',
      ADMIN_TOKEN,
      '--out',
      join(dir, 'all.backup'),
    ])
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`cannot reach http://127.0.0.1:${port}: nothing listens on 127.0.0.1:${port}`)
    expect(out.stderr).not.toMatch(/fetch failed/)
    expect(existsSync(join(dir, 'all.backup'))).toBe(false)
    expect(existsSync(join(dir, 'all.backup.partial'))).toBe(false)
  })

  it('backup --url with a wrong admin token says the token was refused', async () => {
    const relay = await RelayProcess.start({ extraArgs: adminArgs })
    cleanup.push(() => relay.dispose())
    const out = await converge([
      'backup',
      '--url',
      relay.httpUrl,
      '--admin-token',
      'wrong',
      '--out',
      join(await scratch(), 'b'),
    ])
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${relay.httpUrl} refused the admin token (HTTP 401)`)
  })

  it('a truncated backup file is "truncated or corrupt at byte N", and restore leaves the data directory untouched', async () => {
    const store = new MemoryStore()
    for (const name of ['a', 'b', 'c']) {
      const doc = new Y.Doc()
      doc.getText('t').insert(0, `document ${name} `.repeat(20))
      await store.append(name, Y.encodeStateAsUpdate(doc))
    }
    const dir = await scratch()
    const file = join(dir, 'all.backup')
    await writeBackup(store, file)
    const whole = await readFile(file)
    // Cut inside the second entry: the first stays intact.
    const cut = whole.subarray(0, Math.floor(whole.length * 0.5))
    await writeFile(file, cut)
    const data = join(dir, 'data')
    const out = await converge(['restore', '--data', data, '--in', file])
    expect(out.code).toBe(1)
    expect(out.stderr).toMatch(
      new RegExp(
        `${file}: backup file is truncated or corrupt at byte \\d+ of ${cut.length} \\(entry 2; 1 documents before it are intact\\)`,
      ),
    )
    expect(out.stderr).not.toMatch(/Unexpected end of array/)
    expect(existsSync(data)).toBe(false)
  })

  it('admin POST of bytes that are not an update answers 400 with a plain message, no decoder internals', async () => {
    const { api } = await adminRelay()
    for (const body of [new TextEncoder().encode('hello garbage'), new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x07])]) {
      const res = await api('/x/update', { method: 'POST', body })
      expect(res.status).toBe(400)
      const text = await res.text()
      expect(JSON.parse(text)).toEqual({
        error: 'the body is not a Yjs update (binary, as Y.encodeStateAsUpdate makes)',
      })
    }
  })

  it('admin GET of a document that does not exist answers 404, as JSON and as an update', async () => {
    const { api } = await adminRelay()
    for (const path of ['/nope', '/nope/update']) {
      const res = await api(path)
      expect(res.status, path).toBe(404)
      expect(await res.json()).toEqual({ error: 'no document named "nope"' })
    }
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'here')
    expect((await api('/yes/update', { method: 'POST', body: Buffer.from(Y.encodeStateAsUpdate(doc)) })).status).toBe(
      204,
    )
    expect((await api('/yes')).status).toBe(200)
  })
})

describe('converge relay configuration', () => {
  it('--print-config merges flag > env > ./converge.config.json > default, says where each came from, redacts secrets', async () => {
    const cwd = await scratch()
    await writeFile(
      join(cwd, 'converge.config.json'),
      JSON.stringify({ port: 3000, data: '/from-file', unloadDelay: 5, adminToken: 'file-secret' }),
    )
    const out = await converge(['relay', '--print-config', '--port', '4000'], {
      cwd,
      env: { CONVERGE_DATA: '/from-env', CONVERGE_AUTH_SECRET: 'env-secret' },
    })
    expect(out.code).toBe(0)
    expect(out.stdout).toContain(`config file ${join(cwd, 'converge.config.json')}`)
    expect(out.stdout).toMatch(/^port +4000 +flag$/m)
    expect(out.stdout).toMatch(/^data +"\/from-env" +env CONVERGE_DATA$/m)
    expect(out.stdout).toMatch(/^unloadDelay +5 +file$/m)
    expect(out.stdout).toMatch(/^host +"localhost" +default$/m)
    expect(out.stdout).not.toMatch(/secret/)
  })

  it('a config file with an unknown key or a bad value stops the relay with a message naming it', async () => {
    const cwd = await scratch()
    await writeFile(join(cwd, 'bad.json'), JSON.stringify({ heartbeatIntervall: 5 }))
    const unknown = await converge(['relay', '--config', 'bad.json'], { cwd })
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('unknown option "heartbeatIntervall"')
    const badPeer = await converge(['relay', '--peer', 'relay-b:1234'], { cwd })
    expect(badPeer.code).not.toBe(0)
    expect(badPeer.stderr).toContain('"relay-b:1234" has no scheme; a peer is ws://host:port or wss://host:port')
  })
})
