import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunningServer, ServerTarget, StartOptions } from './targets.js'

/** A fresh data directory for one server run. */
export const dataDir = (name: string): Promise<string> => mkdtemp(join(tmpdir(), `converge-bench-${name}-`))

/** Starts `target` on a fresh data directory, runs `fn`, then stops it and removes the directory. */
export const withServer = async <T>(
  target: ServerTarget,
  fn: (server: RunningServer, data: string) => Promise<T>,
  options?: StartOptions,
): Promise<T> => {
  const data = await dataDir(target.name)
  try {
    const server = await target.start(data, options)
    try {
      return await fn(server, data)
    } finally {
      await server.stop()
    }
  } finally {
    await rm(data, { recursive: true, force: true })
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export const inBatches = async <T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> => {
  const out: R[] = []
  for (let i = 0; i < items.length; i += limit) {
    out.push(...(await Promise.all(items.slice(i, i + limit).map((item, j) => fn(item, i + j)))))
  }
  return out
}
