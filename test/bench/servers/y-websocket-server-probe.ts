/**
 * Preloaded into the stock @y/websocket-server bin (node --import this src/server.js):
 * answers drain requests (see drain-probe.ts). It imports the server's own utils.js (the
 * same module instance the bin loads, so the same docs map and y-leveldb instance) and
 * changes nothing in it.
 *
 * Applied: the in-memory WSSharedDoc holds the state. Durable: additionally y-leveldb's
 * write chain (`LeveldbPersistence.tr`, every storeUpdate in order) has drained, since
 * the server queues each update's write synchronously when the doc applies it.
 */
import { covers, serveDrainRequests, storeState, until } from './drain-probe.js'

interface YwsUtils {
  docs: Map<string, Parameters<typeof storeState>[0]>
  getPersistence(): { provider: { tr: Promise<unknown> } } | null
}

const utils = (await import(import.meta.resolve('@y/websocket-server/utils'))) as YwsUtils
if (utils.getPersistence() === null) throw new Error('YPERSISTENCE is not set: the server would not persist')

// The stock bin has no signal handler (SIGTERM kills it); exiting instead lets --cpu-prof
// (BENCH_SERVER_NODE_ARGS) write its profile. Nothing else changes: there is no shutdown code.
process.once('SIGTERM', () => process.exit(0))

serveDrainRequests(async ({ doc, want }) => {
  const appliedAt = await until(() => {
    const d = utils.docs.get(doc)
    return d !== undefined && covers(storeState(d), want)
  })
  const ldb = (utils.getPersistence() as NonNullable<ReturnType<YwsUtils['getPersistence']>>).provider
  let tail: Promise<unknown>
  do {
    tail = ldb.tr
    await tail
  } while (tail !== ldb.tr)
  return { appliedAt, durableAt: performance.timeOrigin + performance.now() }
})
