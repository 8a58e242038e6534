import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import type { ServerTarget } from '../servers/targets.js'
import { withServer } from '../servers/with-server.js'

export const OFFLINE_FLUSH_DEFAULTS = {
  /** Updates made offline, each its own transaction (inserted at the start: no two merge). */
  updates: 100_000,
  /** Bytes of text per update. */
  updateBytes: 300,
  /** How long the flush may take, in ms. */
  timeout: 600_000,
}

export type OfflineFlushOptions = typeof OFFLINE_FLUSH_DEFAULTS

export interface OfflineFlushResult {
  updates: number
  queuedMiB: number
  /** From connecting until every queued update was confirmed saved (ms). */
  savedMs: number
  /** Times the connection closed meanwhile (0: flushed on one connection). */
  closes: number
  /** Their close codes and reasons. */
  closeCodes: string[]
  serverRssBeforeMiB: number
  serverPeakRssMiB: number
  serverCpuMs: number
  cores: CoreLoad
}

/**
 * A converge Replica (in-memory store) makes `updates` edits offline, then connects to
 * the relay: time until `saved`, and the relay's peak RSS (VmHWM) meanwhile.
 */
export const runOfflineFlush = (target: ServerTarget, options: OfflineFlushOptions): Promise<OfflineFlushResult> =>
  withServer(target, async (server) => {
    const replica = new Replica({ store: new MemoryStore() })
    try {
      const doc = await replica.open('offline')
      const text = doc.getText('text')
      const block = 'o'.repeat(Math.max(0, options.updateBytes - 8))
      for (let i = 0; i < options.updates; i++) text.insert(0, `${String(i).padStart(8, '0')}${block}`)
      const rssBefore = server.process.rssBytes()
      const cpu0 = server.process.cpuMs()
      const watch = new CoreLoadWatch([server.process.pid])
      const started = performance.now()
      const peer = replica.connect(websocket(server.url))
      const closeCodes: string[] = []
      peer.on('status', (status) => {
        const last = peer.lastClose
        if (status === 'connecting' && last !== undefined) closeCodes.push(`${last.code} ${last.reason}`)
      })
      try {
        await replica.whenSaved('offline', { timeout: options.timeout })
      } catch (err) {
        // A flush that never completes: the closes are the first thing to know.
        throw new Error(`${(err as Error).message}; closes meanwhile: ${closeCodes.join('; ') || 'none'}`)
      }
      const savedMs = performance.now() - started
      return {
        updates: options.updates,
        queuedMiB: (options.updates * options.updateBytes) / 2 ** 20,
        savedMs,
        closes: closeCodes.length,
        closeCodes,
        serverRssBeforeMiB: rssBefore / 2 ** 20,
        serverPeakRssMiB: server.process.peakRssBytes() / 2 ** 20,
        serverCpuMs: server.process.cpuMs() - cpu0,
        cores: watch.stop(),
      }
    } finally {
      await replica.destroy()
    }
  })
