import { constants } from 'node:fs'
import { chmod, type FileHandle, mkdir, open, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** Owner-only permissions: documents, backups and revocations are nobody else's to read. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/**
 * Creates `dir` (and its parents) owner-only, or tightens an existing one to 0700, and its
 * files to 0600. The directory mode is what protects files created later (LevelDB writes new
 * tables and logs as it runs): nobody else can even traverse into it.
 */
export const ensurePrivateDir = async (dir: string): Promise<void> => {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  await chmod(dir, PRIVATE_DIR_MODE)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await chmod(join(dir, entry.name), PRIVATE_FILE_MODE)
  }
}

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

/**
 * Creates `file` for writing, owner-only, never through a symlink and never into an existing
 * file (O_CREAT|O_EXCL|O_NOFOLLOW). Whatever sits at the path already (a stale temporary file,
 * or a symlink planted to make us overwrite its target) is unlinked first: unlink removes
 * the link itself, never its target. If something reappears in between, this fails.
 */
export const createPrivateFile = async (file: string): Promise<FileHandle> => {
  try {
    return await open(file, EXCLUSIVE, PRIVATE_FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  await unlink(file)
  return open(file, EXCLUSIVE, PRIVATE_FILE_MODE)
}

/** Writes `text` to `file` atomically (a private temporary file, then rename), owner-only. */
export const writePrivateFile = async (file: string, text: string): Promise<void> => {
  const tmp = `${file}.partial`
  const out = await createPrivateFile(tmp)
  try {
    await out.write(text)
    await out.sync()
  } finally {
    await out.close()
  }
  await rename(tmp, file)
}
