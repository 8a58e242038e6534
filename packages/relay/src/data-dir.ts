import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LevelStore, type LevelStoreOptions } from '@converge/level'
import { FileJournal } from './file-journal.js'
import { ensurePrivateDir } from './private-files.js'

/** A data directory that cannot be used, said in the terms of the relay rather than LevelDB's. */
export class DataDirError extends Error {}

/** The process holding LevelDB's lock on `dir`, from /proc/locks (Linux); undefined elsewhere or if unknown. */
const lockHolder = async (dir: string): Promise<number | undefined> => {
  try {
    const inode = statSync(join(dir, 'LOCK')).ino
    const locks = await readFile('/proc/locks', 'utf8')
    const line = locks.split('\n').find((l) => l.split(/\s+/)[5]?.endsWith(`:${inode}`))
    const pid = Number(line?.split(/\s+/)[4])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Opens the LevelStore of a data directory. `create: false` (inspect, backup) refuses a
 * directory that does not exist instead of creating an empty database there. A directory
 * locked by a running relay is reported as such, with its pid where the system tells it.
 * Its journal (file-journal.ts) is always read at open, so every command sees what a relay
 * acknowledged before it stopped; `journal` says whether appends use it (default false).
 */
export const openDataDir = async (
  dir: string,
  options: Omit<LevelStoreOptions, 'journal'>,
  { create, journal = false }: { create: boolean; journal?: boolean },
): Promise<LevelStore> => {
  if (!create && !existsSync(dir)) throw new DataDirError(`no data directory at ${dir} (nothing was created)`)
  // Owner-only: documents are nobody else's to read (0700 directory, 0600 files).
  if (create) await ensurePrivateDir(dir)
  const store = new LevelStore(dir, {
    ...options,
    journal: FileJournal.in(dir),
    ...(journal ? {} : { maxJournalBatchBytes: 0 }),
  })
  try {
    await store.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      const pid = await lockHolder(dir)
      throw new DataDirError(
        `data directory ${dir} is in use by another relay${pid === undefined ? '' : ` (pid ${pid})`}: stop it first, or use another --data directory (a running relay can be backed up with backup --url)`,
      )
    }
    throw new DataDirError(
      `cannot open the data directory ${dir}: ${(err as Error).message}${cause ? ` (${String((cause as Error).message ?? cause.code)})` : ''}`,
    )
  }
  return store
}
