import { open, readFile, rename } from 'node:fs/promises'
import type { Store } from '@converge/core'
import { BACKUP_END, BACKUP_HEADER, decodeBackup, encodeBackupEntry } from './backup-file.js'

/** Where a backup reads documents from: a store (a stopped relay's data) or a running relay's admin API. */
export interface BackupSource {
  list(): Promise<string[]>
  load(doc: string): Promise<Uint8Array | undefined>
}

/** A running relay, read through its admin API. */
export const adminApiSource = (url: string, adminToken: string): BackupSource => {
  const base = url.replace(/^ws/, 'http').replace(/\/$/, '')
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`)
    return res
  }
  return {
    list: async () => ((await (await get('/api/docs')).json()) as { docs: string[] }).docs,
    load: async (doc) => new Uint8Array(await (await get(`/api/docs/${encodeURIComponent(doc)}/update`)).arrayBuffer()),
  }
}

/**
 * Writes every document of `source` to `file` (through a temporary file renamed at the
 * end, so a crash never leaves a half-written backup under the final name).
 * Returns the number of documents written.
 */
export const writeBackup = async (source: BackupSource, file: string): Promise<number> => {
  const tmp = `${file}.partial`
  const out = await open(tmp, 'w')
  let count = 0
  try {
    await out.write(BACKUP_HEADER)
    for (const doc of await source.list()) {
      const update = await source.load(doc)
      if (update === undefined) continue
      await out.write(encodeBackupEntry({ doc, update }))
      count++
    }
    await out.write(BACKUP_END)
    await out.sync()
  } finally {
    await out.close()
  }
  await rename(tmp, file)
  return count
}

/**
 * Merges every document of a backup file into `store` (appends: background compaction
 * folds them into snapshots later). Returns the number of documents.
 */
export const restoreBackup = async (file: string, store: Store): Promise<number> => {
  const entries = decodeBackup(new Uint8Array(await readFile(file)))
  await Promise.all(entries.map((e) => store.append(e.doc, e.update)))
  return entries.length
}
