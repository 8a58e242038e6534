import { execFile } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { decodeBackup } from '@converge/relay'
import { afterEach, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, adminArgs, relayDoc } from '../helpers/admin.js'
import { CLI, RelayProcess, tempDir } from '../helpers/relay-process.js'
import { nodeReplica } from '../helpers/replicas.js'

const run = promisify(execFile)
const converge = (...args: string[]) => run(process.execPath, [CLI, ...args])

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

describe('backup and restore', () => {
  it('a backup from a running relay or from its data restores every document, merging into existing data', async () => {
    const relay = await RelayProcess.start({ extraArgs: adminArgs })
    cleanup.push(() => relay.dispose())
    const dir = await tempDir('backup')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const writer = await nodeReplica(relay.url)
    cleanup.push(() => writer.dispose())
    const names = ['notes', 'team/a', 'émoji 🎉']
    for (const name of names) {
      const doc = await writer.replica.open(name)
      doc.getText('text').insert(0, `content of ${name}`)
      await writer.replica.whenSaved(name, { timeout: 5000 })
    }

    const online = join(dir, 'online.backup')
    await converge('backup', '--url', relay.httpUrl, '--admin-token', ADMIN_TOKEN, '--out', online)
    await writer.dispose()
    cleanup.pop()
    await relay.stop()
    const offline = join(dir, 'offline.backup')
    await converge('backup', '--data', relay.data, '--out', offline)
    for (const file of [online, offline]) {
      const entries = decodeBackup(new Uint8Array(await readFile(file)))
      expect(entries.map((e) => e.doc).sort()).toEqual([...names].sort())
    }

    // Restore into a data directory that already holds a different edit of one document.
    const target = await RelayProcess.start({ extraArgs: adminArgs })
    cleanup.push(() => target.dispose())
    const other = await nodeReplica(target.url)
    const d = await other.replica.open('notes')
    d.getMap('map').set('kept', true)
    await other.replica.whenSaved('notes', { timeout: 5000 })
    await other.dispose()
    await target.stop()
    const { stdout } = await converge('restore', '--data', target.data, '--in', offline)
    expect(stdout).toContain('restored 3 documents')
    await target.start()
    for (const name of names) {
      expect((await relayDoc(target, name)).getText('text').toString()).toBe(`content of ${name}`)
    }
    expect((await relayDoc(target, 'notes')).getMap('map').get('kept')).toBe(true)
  })

  it('a truncated backup, or a file that is not a backup, is refused', () => {
    expect(() => decodeBackup(new TextEncoder().encode('converge-backup v1\n\u0005notes'))).toThrow()
    expect(() => decodeBackup(new TextEncoder().encode('something else'))).toThrow(/header/)
  })
})
