/**
 * Preloaded into every server under test (node --expose-gc --import this …): answers
 * `memory` requests on the IPC channel with the process's memory, read before and after a
 * full garbage collection, so heap figures compare live objects rather than GC timing.
 * It only reads, and only when asked; it does not keep the process alive.
 */
import { writeHeapSnapshot } from 'node:v8'

export interface MemoryRequest {
  type: 'memory'
  id: number
  /** When set: also write a heap snapshot (after the GC) to this path. */
  snapshot?: string
}

export interface MemoryReading {
  /** process.memoryUsage() as the server left it, bytes. */
  before: NodeJS.MemoryUsage
  /** process.memoryUsage() after two full collections, bytes (same as before without --expose-gc). */
  afterGc: NodeJS.MemoryUsage
  /** Whether a collection was forced (the server runs with --expose-gc). */
  collected: boolean
}

const collect = async (): Promise<boolean> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return false
  gc()
  // Finalizers and weak callbacks run between the two.
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  return true
}

const send = process.send?.bind(process)
if (send !== undefined) {
  process.on('message', (m: MemoryRequest) => {
    if (m?.type !== 'memory') return
    const before = process.memoryUsage()
    collect().then(
      (collected) => {
        const afterGc = process.memoryUsage()
        if (m.snapshot !== undefined) writeHeapSnapshot(m.snapshot)
        send({ id: m.id, before, afterGc, collected })
      },
      (err) => send({ id: m.id, error: String(err) }),
    )
  })
  // Listening to 'message' refs the channel; the server must still exit on its own.
  ;(process.channel as { unref?: () => void } | undefined)?.unref?.()
}
