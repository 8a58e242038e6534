import { readFile, rename, rm } from 'node:fs/promises'
import type { Store } from '@converge/core'
import {
  BACKUP_END,
  BACKUP_HEADER,
  type BackupEntry,
  BackupFileError,
  decodeBackup,
  encodeBackupEntry,
} from './backup-file.js'
import { createPrivateFile } from './private-files.js'

/** Where a backup reads documents from: a store (a stopped relay's data) or a running relay's admin API. */
export interface BackupSource {
  list(): Promise<string[]>
  load(doc: string): Promise<Uint8Array | undefined>
}

/** A running relay, read through its admin API. */
export const adminApiSource = (url: string, adminToken: string): BackupSource => {
  const base = url.replace(/^ws/, 'http').replace(/\/$/, '')
  if (!/^https?:\/\/[^/]/.test(base)) throw new Error(`--url ${url} is not an http:// or https:// URL of a relay`)
  const get = async (path: string) => {
    let res: Response
    try {
      res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
    } catch (err) {
      throw unreachable(base, err)
    }
    if (res.status === 401) throw new Error(`${base} refused the admin token (HTTP 401): check --admin-token`)
    if (res.status === 404 && path === '/api/docs') {
      throw new Error(`${base} has no admin API (HTTP 404): start that relay with --admin-token`)
    }
    if (res.status !== 200) throw new Error(`GET ${base}${path}: HTTP ${res.status}`)
    return res
  }
  return {
    list: async () => ((await (await get('/api/docs')).json()) as { docs: string[] }).docs,
    load: async (doc) => new Uint8Array(await (await get(`/api/docs/${encodeURIComponent(doc)}/update`)).arrayBuffer()),
  }
}

/** What a failed fetch means for people: nothing listens, no such host, or the network's own words. */
const unreachable = (base: string, err: unknown): Error => {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause
  const where = new URL(base).host
  if (cause?.code === 'ECONNREFUSED')
    return new Error(`cannot reach ${base}: nothing listens on ${where} (connection refused)`)
  if (cause?.code === 'ENOTFOUND') return new Error(`cannot reach ${base}: no host named ${new URL(base).hostname}`)
  return new Error(`cannot reach ${base}: ${cause?.message ?? (err as Error).message}`)
}

/**
 * Writes every document of `source` to `file` (through a temporary file renamed at the
 * end, so a crash never leaves a half-written backup under the final name). Both are
 * owner-only (0600), and the temporary file is created exclusively, never through a symlink
 * someone planted at `<file>.partial`. Returns the number of documents written.
 */
export const writeBackup = async (
  source: BackupSource,
  file: string,
  progress?: (done: number, total: number) => void,
): Promise<number> => {
  const docs = await source.list()
  const tmp = `${file}.partial`
  const out = await createPrivateFile(tmp)
  let count = 0
  try {
    await out.write(BACKUP_HEADER)
    for (const [i, doc] of docs.entries()) {
      const update = await source.load(doc)
      progress?.(i + 1, docs.length)
      if (update === undefined) continue
      await out.write(encodeBackupEntry({ doc, update }))
      count++
    }
    await out.write(BACKUP_END)
    await out.sync()
  } catch (err) {
    await out.close()
    await rm(tmp, { force: true })
    throw err
  }
  await out.close()
  await rename(tmp, file)
  return count
}

/**
 * Merges every document of a backup file into `store` (appends: background compaction
 * folds them into snapshots later). Returns the number of documents.
 */
export const restoreBackup = async (file: string, store: Store): Promise<number> =>
  restoreEntries(await readBackupFile(file), store)

/** The entries of a backup file; an unreadable one throws with the file's name and the byte at fault. */
export const readBackupFile = async (file: string): Promise<BackupEntry[]> => {
  const bytes = new Uint8Array(await readFile(file))
  try {
    return decodeBackup(bytes)
  } catch (err) {
    if (err instanceof BackupFileError) throw new BackupFileError(`${file}: ${err.message}`)
    throw err
  }
}

/** Appends every entry to `store`; `progress` is told the number of documents done so far. */
export const restoreEntries = async (
  entries: BackupEntry[],
  store: Store,
  progress?: (done: number) => void,
): Promise<number> => {
  let done = 0
  await Promise.all(
    entries.map(async (e) => {
      await store.append(e.doc, e.update)
      progress?.(++done)
    }),
  )
  return entries.length
}
