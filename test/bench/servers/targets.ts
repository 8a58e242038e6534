import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as Y from 'yjs'
import { convergeRelayArgv, fetchDocState } from '../lib/converge-relay.js'
import { freePort } from '../lib/free-port.js'
import { benchDir, besideThisFile } from '../lib/paths.js'
import { ServerProcess } from '../lib/server-process.js'
import { type StateVectorObject, svCovers, svObject } from '../lib/state-vector.js'
import { sleep } from '../lib/wait.js'
import type { ClientName } from './clients.js'
import { type DrainReply, epochNow } from './drain-probe.js'
import type { MemoryAsk, MemoryReading } from './memory-probe.js'

export type ServerName =
  | 'converge'
  | 'y-websocket-server'
  | 'hocuspocus'
  | 'bare-ws'
  | 'bare-ws-level'
  | 'bare-broadcast'

/** How a scenario wants a server started. */
export interface StartOptions {
  /**
   * converge only: --unload-delay, ms (the relay keeps a document this long after its last
   * client left). The anchors unload a document as soon as its last client leaves.
   */
  unloadDelayMs?: number
}

/** When a document held a state: in memory (applied) and on disk (durable), epoch ms. */
export interface DrainTimes {
  appliedAt: number
  durableAt: number
}

/** A server under test, started as its own pinned process on a data directory. */
export interface RunningServer {
  readonly process: ServerProcess
  /** ws://127.0.0.1:PORT */
  readonly url: string
  /** Resolves once document `doc` holds every struct of `want`, applied and durable. */
  drain(doc: string, want: StateVectorObject): Promise<DrainTimes>
  /** Prometheus text, for servers that have it (converge). */
  metrics?(): Promise<string>
  /** The server's memory, before and after a forced full GC (memory-probe.ts; `ask`: a heap snapshot too, or no GC). */
  memory(ask?: MemoryAsk): Promise<MemoryReading>
  stop(): Promise<void>
}

export interface ServerTarget {
  name: ServerName
  /** How the server is shown in tables. */
  label: string
  /** Its persistence, for the report. */
  persistence: string
  /** The stock clients it is driven with. */
  clients: ClientName[]
  start(data: string, options?: StartOptions): Promise<RunningServer>
}

/**
 * Node flags every server runs with: the memory probe preloaded (it answers `memory` over
 * IPC) and --expose-gc so that it can collect before reading the heap. Nothing else in the
 * servers changes; the probe does no work until asked.
 */
const probeArgs = (): string[] => [
  '--expose-gc',
  '--import',
  pathToFileURL(besideThisFile(import.meta.url, 'memory-probe.js')).href,
]

const askMemory =
  (proc: ServerProcess) =>
  async (ask: MemoryAsk = {}): Promise<MemoryReading> =>
    (await proc.request({ type: 'memory', ...ask })) as unknown as MemoryReading

/** How often the converge drain polls the admin API, in ms. Default 20. */
export const CONVERGE_DRAIN_POLL_MS = 20

const anchorDir = (pkg: string): string =>
  dirname(createRequire(join(benchDir(), 'package.json')).resolve(`${pkg}/package.json`))

/**
 * converge: the relay CLI. Durable before visible, so "applied" and "durable" are one
 * moment; the drain polls the admin API for the document's state (which is what the
 * relay has made durable).
 */
export const convergeTarget: ServerTarget = {
  name: 'converge',
  label: 'converge relay',
  persistence: 'LevelStore (classic-level), group commit, no fsync (default)',
  clients: ['converge', 'y-websocket'],
  async start(data, options = {}) {
    const port = await freePort()
    const extra = options.unloadDelayMs === undefined ? [] : ['--unload-delay', String(options.unloadDelayMs)]
    const [node, ...rest] = convergeRelayArgv(port, data, extra)
    const proc = await ServerProcess.start({
      name: 'converge relay',
      argv: [node as string, ...probeArgs(), ...rest],
      ipc: true,
      readyUrl: `http://127.0.0.1:${port}/readyz`,
    })
    return {
      process: proc,
      url: `ws://127.0.0.1:${port}`,
      async drain(doc, want) {
        for (;;) {
          if (!proc.alive) throw new Error(`the converge relay exited:\n${proc.output}`)
          // A failed poll (a reset connection on a loaded machine) is retried, not fatal.
          const state = await fetchDocState(port, doc).catch(() => undefined)
          if (state !== undefined && svCovers(svObject(Y.encodeStateVectorFromUpdate(state)), want)) {
            const at = epochNow()
            return { appliedAt: at, durableAt: at }
          }
          await sleep(CONVERGE_DRAIN_POLL_MS)
        }
      },
      metrics: async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
      memory: askMemory(proc),
      stop: () => proc.stop(),
    }
  },
}

const ipcDrain =
  (proc: ServerProcess) =>
  async (doc: string, want: StateVectorObject): Promise<DrainTimes> => {
    const reply = (await proc.request({ type: 'drain', doc, want })) as unknown as DrainReply
    return { appliedAt: reply.appliedAt, durableAt: reply.durableAt }
  }

/**
 * Starts a Node server script (`argv`: node flags and the script, after the probe's) on a
 * free port, passed with HOST in its environment beside `env`; ready once it answers HTTP on /.
 * `drain` says how to learn when it holds a state (default: ask its drain probe over IPC).
 */
const startNodeServer = async (
  name: string,
  argv: string[],
  env: Record<string, string>,
  drain: (proc: ServerProcess) => RunningServer['drain'] = ipcDrain,
): Promise<RunningServer> => {
  const port = await freePort()
  const proc = await ServerProcess.start({
    name,
    argv: [process.execPath, ...probeArgs(), ...argv],
    env: { HOST: '127.0.0.1', PORT: String(port), ...env },
    ipc: true,
    readyUrl: `http://127.0.0.1:${port}/`,
  })
  return {
    process: proc,
    url: `ws://127.0.0.1:${port}`,
    drain: drain(proc),
    memory: askMemory(proc),
    stop: () => proc.stop(),
  }
}

/**
 * @y/websocket-server 0.1.1: its stock bin (src/server.js) with YPERSISTENCE, so it
 * persists every update with y-leveldb 0.2.0. A preloaded probe answers drains.
 */
export const yWebsocketServerTarget: ServerTarget = {
  name: 'y-websocket-server',
  label: '@y/websocket-server',
  persistence: 'y-leveldb (one LevelDB put per update, written in order)',
  clients: ['y-websocket'],
  start: (data) =>
    startNodeServer(
      '@y/websocket-server',
      [
        '--import',
        pathToFileURL(besideThisFile(import.meta.url, 'y-websocket-server-probe.js')).href,
        join(anchorDir('@y/websocket-server'), 'src', 'server.js'),
      ],
      { YPERSISTENCE: data },
    ),
}

/** Hocuspocus 3.4: the stock Server with Database-extension-style LevelDB persistence (hocuspocus-server.ts). */
export const hocuspocusTarget: ServerTarget = {
  name: 'hocuspocus',
  label: '@hocuspocus/server',
  persistence: 'level: whole state per doc on onStoreDocument (stock debounce 2 s, max 10 s)',
  clients: ['hocuspocus-provider'],
  start: (data) =>
    startNodeServer('@hocuspocus/server', [besideThisFile(import.meta.url, 'hocuspocus-server.js')], { DATA: data }),
}

/**
 * The memory floor (memory scenario only): a bare `ws` server holding the same sockets and
 * document bytes and doing nothing else (bare-ws-server.ts), driven by bare `ws` sockets.
 */
export const bareWsTarget: ServerTarget = {
  name: 'bare-ws',
  label: 'bare ws (floor)',
  persistence: 'none (holds the bytes in memory)',
  clients: ['raw-ws'],
  // The bytes are held as soon as the server answered the client.
  start: () =>
    startNodeServer('bare ws', [besideThisFile(import.meta.url, 'bare-ws-server.js')], {}, () => async () => ({
      appliedAt: epochNow(),
      durableAt: epochNow(),
    })),
}

/**
 * The memory floor with persistence (memory scenario only): a `ws` server that syncs stock
 * y-websocket clients with no Yjs work, stores every update with one LevelDB put and reads a
 * document's updates with one range read when it opens (bare-level-server.ts), driven by the
 * same stock clients as the sync servers: what sockets and LevelDB alone cost per document.
 */
export const bareWsLevelTarget: ServerTarget = {
  name: 'bare-ws-level',
  label: 'bare ws + LevelDB (floor)',
  persistence: 'level (classic-level): one put per update, a range read on open',
  clients: ['y-websocket'],
  start: (data) =>
    startNodeServer('bare ws + LevelDB', [besideThisFile(import.meta.url, 'bare-level-server.js')], { DATA: data }),
}

/**
 * The fan-out floor (fan-out scenario only): a `ws` server that answers sync step 1 with an
 * empty step 2 and forwards every frame of a room to its other sockets, with no Yjs work
 * and no persistence (bare-broadcast-server.ts), driven by the same stock y-websocket
 * readers: what the load generator alone allows. It holds no state, so it has no drain.
 */
export const bareBroadcastTarget: ServerTarget = {
  name: 'bare-broadcast',
  label: 'bare ws broadcast (floor)',
  persistence: 'none (holds nothing)',
  clients: ['y-websocket'],
  start: () =>
    startNodeServer(
      'bare ws broadcast',
      [besideThisFile(import.meta.url, 'bare-broadcast-server.js')],
      {},
      () => () => Promise.reject(new Error('the bare ws broadcast floor holds no document state to drain')),
    ),
}

/** The floor targets: each runs only in the scenario it is the floor of. */
export const floorTargets: ServerTarget[] = [bareWsTarget, bareWsLevelTarget, bareBroadcastTarget]

/** The sync servers compared in every scenario. */
export const serverTargets: ServerTarget[] = [convergeTarget, yWebsocketServerTarget, hocuspocusTarget]
