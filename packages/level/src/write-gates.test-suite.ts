/** Test helpers: hold or fail a MemoryLevel's batch writes (shared by the LevelStore tests). */
import type { MemoryLevel } from 'memory-level'

/**
 * Patches the database's batches (the chained form LevelStore writes with): `gate` runs
 * before each write with the kinds of its operations, and may throw to fail it or wait to
 * hold it.
 */
export const gateWrites = (db: MemoryLevel, gate: (kinds: string[]) => void | Promise<void>) => {
  const original = db.batch.bind(db) as () => ReturnType<MemoryLevel['batch']>
  // biome-ignore lint/suspicious/noExplicitAny: patching the database to inject failures.
  ;(db as any).batch = () => {
    const chained = original()
    const kinds: string[] = []
    const put = chained.put.bind(chained)
    const del = chained.del.bind(chained)
    const write = chained.write.bind(chained)
    // biome-ignore lint/suspicious/noExplicitAny: forwarding whatever LevelStore passes.
    chained.put = (...args: any[]) => {
      kinds.push('put')
      return put(...(args as Parameters<typeof put>))
    }
    // biome-ignore lint/suspicious/noExplicitAny: forwarding whatever LevelStore passes.
    chained.del = (...args: any[]) => {
      kinds.push('del')
      return del(...(args as Parameters<typeof del>))
    }
    // biome-ignore lint/suspicious/noExplicitAny: forwarding whatever LevelStore passes.
    ;(chained as any).write = async (options: any) => {
      try {
        await gate(kinds)
      } catch (err) {
        await chained.close()
        throw err
      }
      return write(options)
    }
    return chained
  }
}

/** Makes writes fail with "disk full" while `failing()` says so, for the batches `which` selects. */
export const failBatches = (
  db: MemoryLevel,
  failing: () => boolean,
  which: (kinds: string[]) => boolean = () => true,
) =>
  gateWrites(db, (kinds) => {
    if (failing() && which(kinds)) throw new Error('disk full')
  })
