/**
 * Scenario (f), join storm: a multi-MB document is stored on the server (sent by one
 * client, then the server is restarted), and N fresh stock clients join it at once.
 * Reported: the time from the first client's creation until the last one holds the whole
 * document, the server's CPU time meanwhile (from /proc), and its peak RSS (VmHWM) since the
 * restart.
 *
 * The document: the trace typed into `copies` texts of one doc (text-0, text-1, …), each
 * by its own client id, so it is as big as `copies` documents of the trace and has their
 * history. Built once per process (and cached on disk in the temp dir, keyed by trace
 * and copies, since replaying the trace takes seconds per copy).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import { svObject } from '../lib/state-vector.js'
import { replay, type Trace } from '../lib/trace.js'
import { sleep, withTimeout } from '../lib/wait.js'
import type { BenchClient, ClientKind } from './clients.js'
import { holds } from './cold-sync.js'
import type { ServerTarget } from './targets.js'
import { withServer } from './with-server.js'

export interface JoinStormOptions {
  /** Clients joining at once. Default 50. */
  clients: number
  /** Copies of the trace in the document. Default 6 (automerge-paper: ~1.8 MB). */
  copies: number
  /** Quiet time after the restart before the storm, in ms. Default 1_000. */
  settleMs: number
  /** Longest wait for every client to hold the document, in ms. Default 180_000. */
  timeout: number
}

export const JOIN_STORM_DEFAULTS: JoinStormOptions = { clients: 50, copies: 6, settleMs: 1_000, timeout: 180_000 }

export interface JoinStormResult {
  clients: number
  docBytes: number
  /** From creating the first client until the last one held the whole document, ms. */
  allSyncedMs: number
  /** Until the first one held it, ms. */
  firstSyncedMs: number
  /** The server's CPU time (user + system) over the storm, ms. */
  serverCpuMs: number
  /** Of it, system (kernel) time: socket writes and reads, page faults, ms. */
  serverSystemCpuMs: number
  /** RSS after the restart, before the storm, MiB. */
  rssBeforeMiB: number
  /** Peak RSS of the restarted server (VmHWM), MiB. */
  peakRssMiB: number
  cores: CoreLoad
}

/** The trace typed `copies` times into texts of one doc, as one update. */
export const stormDocOf = (trace: Trace, copies: number): Uint8Array => {
  const file = join(
    tmpdir(),
    `converge-bench-storm-${trace.name.replace(/\W+/g, '_')}-${trace.txns.length}-${copies}.bin`,
  )
  if (existsSync(file)) return new Uint8Array(readFileSync(file))
  const doc = new Y.Doc()
  for (let c = 0; c < copies; c++) {
    // Each copy by its own client, as if typed by another person.
    doc.clientID = 1_000 + c
    replay(doc.getText(`text-${c}`), trace)
  }
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  writeFileSync(file, update)
  return update
}

export const runJoinStorm = (
  target: ServerTarget,
  client: ClientKind,
  trace: Trace,
  options: JoinStormOptions,
): Promise<JoinStormResult> =>
  withServer(target, async (first, data) => {
    const state = stormDocOf(trace, options.copies)
    const want = svObject(Y.encodeStateVectorFromUpdate(state))
    const seeder = await client.open(first.url, 'storm', state)
    await withTimeout(seeder.synced(), options.timeout, 'the seeding client to sync')
    await withTimeout(first.drain('storm', want), options.timeout, 'the server to persist the document')
    await seeder.close()
    await first.stop()

    const server = await target.start(data)
    try {
      await sleep(options.settleMs)
      const rssBefore = server.process.rssBytes()
      const cpu0 = server.process.cpuMs()
      const system0 = server.process.cpuSplitMs().system
      const watch = new CoreLoadWatch([server.process.pid])
      const t0 = performance.now()
      const clients: BenchClient[] = await Promise.all(
        Array.from({ length: options.clients }, () => client.open(server.url, 'storm')),
      )
      let firstSyncedMs = Number.POSITIVE_INFINITY
      await withTimeout(
        Promise.all(
          clients.map((c) =>
            holds(c, want).then(() => {
              firstSyncedMs = Math.min(firstSyncedMs, performance.now() - t0)
            }),
          ),
        ),
        options.timeout,
        'every client to hold the document',
      )
      const allSyncedMs = performance.now() - t0
      const serverCpuMs = server.process.cpuMs() - cpu0
      const serverSystemCpuMs = server.process.cpuSplitMs().system - system0
      const cores = watch.stop()
      const peak = server.process.peakRssBytes()
      await Promise.all(clients.map((c) => c.close()))
      return {
        clients: options.clients,
        docBytes: state.length,
        allSyncedMs,
        firstSyncedMs,
        serverCpuMs,
        serverSystemCpuMs,
        rssBeforeMiB: rssBefore / 2 ** 20,
        peakRssMiB: peak / 2 ** 20,
        cores,
      }
    } finally {
      await server.stop()
    }
  })
