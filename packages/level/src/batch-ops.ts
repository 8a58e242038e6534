import type { AnyLevel } from './level-store-options.js'

/** A batch operation; each carries its encodings, so a database opened with other defaults works too. */
export type BatchOp =
  | { type: 'put'; key: string; value: unknown; keyEncoding: 'utf8'; valueEncoding: 'view' | 'json' | 'utf8' }
  | { type: 'del'; key: string; keyEncoding: 'utf8' }

export const KEY = { keyEncoding: 'utf8' } as const
export const VIEW = { keyEncoding: 'utf8', valueEncoding: 'view' } as const
export const JSON_VALUE = { keyEncoding: 'utf8', valueEncoding: 'json' } as const
export const EMPTY = new Uint8Array(0)

/** One atomic LevelDB batch, fsynced when the `sync` option says so. */
export const writeOps = async (db: AnyLevel, sync: boolean, ops: BatchOp[]): Promise<void> => {
  // A chained batch: abstract-level's array form copies and re-checks every operation
  // object, which costs about a fifth more per entry.
  const batch = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value, op)
      else batch.del(op.key, op)
    }
  } catch (err) {
    await batch.close()
    throw err
  }
  await batch.write({ sync } as object)
}
