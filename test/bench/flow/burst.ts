import { rm } from 'node:fs/promises'
import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { type CoreLoad, CoreLoadWatch } from '../lib/core-load.js'
import type { Trace } from '../lib/trace.js'
import { waitFor, yieldToIo } from '../lib/wait.js'
import type { ServerTarget } from '../servers/targets.js'
import { dataDir } from '../servers/with-server.js'

export const BURST_DEFAULTS = {
  /** Transactions of the trace typed as one burst. */
  edits: 60_000,
  /** The writer yields to the event loop after this many. */
  yieldEvery: 500,
  /** How long the observer may take to get the final text, in ms. */
  timeout: 300_000,
}

export type BurstOptions = typeof BURST_DEFAULTS

/** One side of the burst: a document on a client, with its disconnects counted. */
interface BurstClient {
  doc: Y.Doc
  synced(): Promise<void>
  /** Close codes the server sent this client. */
  closes: number[]
  close(): Promise<void>
}

export type BurstClientKind = 'y-websocket' | 'converge' | 'hocuspocus'

const stockClient = (url: string, room: string): BurstClient => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket as never, disableBc: true })
  const closes: number[] = []
  provider.on('connection-close', (event: { code: number } | null) => {
    if (event != null) closes.push(event.code)
  })
  const synced = provider.synced
    ? Promise.resolve()
    : new Promise<void>((resolve) => provider.once('sync', () => resolve()))
  return {
    doc,
    synced: () => synced,
    closes,
    async close() {
      provider.destroy()
      doc.destroy()
    },
  }
}

const convergeClient = async (url: string, room: string): Promise<BurstClient & { replica: Replica }> => {
  const replica = new Replica({ store: new MemoryStore() })
  const peer = replica.connect(websocket(url))
  const closes: number[] = []
  peer.on('status', (status) => {
    if (status === 'connecting' && peer.lastClose !== undefined) closes.push(peer.lastClose.code)
  })
  const doc = await replica.open(room)
  return {
    doc,
    replica,
    synced: () => replica.whenSynced(room),
    closes,
    close: () => replica.destroy(),
  }
}

/** A stock @hocuspocus/provider 3.x client (`ws` as its WebSocket), for the Hocuspocus server. */
const hocuspocusClient = (url: string, room: string): BurstClient => {
  const doc = new Y.Doc()
  // What `new HocuspocusProvider({ url, name, document })` does inside, with `ws` as the WebSocket.
  const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket })
  const provider = new HocuspocusProvider({ name: room, document: doc, websocketProvider: socket })
  provider.attach()
  const closes: number[] = []
  socket.on('close', ({ event }: { event: { code: number } }) => closes.push(event.code))
  const synced = provider.isSynced
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const done = () => {
          provider.off('synced', done)
          resolve()
        }
        provider.on('synced', done)
      })
  return {
    doc,
    synced: () => synced,
    closes,
    async close() {
      provider.destroy()
      socket.destroy()
      doc.destroy()
    },
  }
}

const openClient = (kind: BurstClientKind, url: string, room: string) =>
  kind === 'y-websocket'
    ? Promise.resolve(stockClient(url, room))
    : kind === 'hocuspocus'
      ? Promise.resolve(hocuspocusClient(url, room))
      : convergeClient(url, room)

/** Sum of a state vector's clocks: how many structs (characters, deletions aside) a state holds. */
const clockSum = (doc: Y.Doc): number => {
  let sum = 0
  for (const clock of Y.decodeStateVector(Y.encodeStateVector(doc)).values()) sum += clock
  return sum
}

export interface BurstResult {
  edits: number
  textLength: number
  /** From the first edit until the writer returned from its last (ms). */
  typedMs: number
  /** From the first edit until the observer had the final text (ms). */
  observerMs: number
  /** converge Replica writer only: from the first edit until every edit was confirmed saved (ms). */
  savedMs?: number
  /** Close codes the writer and the observer got during the burst. */
  writerCloses: number[]
  observerCloses: number[]
  /** After SIGKILL and restart: the share of the writer's structs the server still had (%). */
  survivedPercent: number
  /** The text read back equals the final text. */
  survivedWhole: boolean
  serverCpuMs: number
  serverPeakRssMiB: number
  cores: CoreLoad
  /** converge only: the relay's flow-control and persist figures over the burst (its /metrics). */
  relay?: RelayBurstFigures
}

/** What the converge relay spent the burst on, from its Prometheus counters. */
export interface RelayBurstFigures {
  /** Times a connection was paused, and the seconds connections spent paused. */
  pauses: number
  pausedSeconds: number
  /** Appends persisted, and their summed latency from call to durable (s). */
  persists: number
  persistSeconds: number
}

/** The sum of every sample of `name` (all label sets) in Prometheus text. */
const metricSum = (text: string, name: string): number => {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) sum += value
  }
  return sum
}

const relayFigures = (text: string): RelayBurstFigures => ({
  pauses: metricSum(text, 'converge_flow_pauses_total'),
  pausedSeconds: metricSum(text, 'converge_flow_paused_seconds_total'),
  persists: metricSum(text, 'converge_persist_seconds_count'),
  persistSeconds: metricSum(text, 'converge_persist_seconds_sum'),
})

/**
 * One client types the first `edits` transactions of the trace as fast as it can, yielding
 * every `yieldEvery`; a second client of the same kind observes. Then the server is killed
 * (SIGKILL) as soon as the observer has the text, restarted on the same data, and a fresh
 * client reads the document back.
 */
export const runBurst = async (
  target: ServerTarget,
  kind: BurstClientKind,
  trace: Trace,
  options: BurstOptions,
): Promise<BurstResult> => {
  const data = await dataDir(target.name)
  try {
    const server = await target.start(data)
    const room = `burst-${kind}`
    const writer = await openClient(kind, server.url, room)
    const observer = await openClient(kind, server.url, room)
    let serverCpuMs = 0
    let serverPeakRssMiB = 0
    let result: Omit<BurstResult, 'survivedPercent' | 'survivedWhole' | 'serverCpuMs' | 'serverPeakRssMiB'>
    let writerState: Uint8Array
    try {
      await writer.synced()
      await observer.synced()
      const txns = trace.txns.slice(0, options.edits)
      const text = writer.doc.getText('text')
      const cpu0 = server.process.cpuMs()
      const watch = new CoreLoadWatch([server.process.pid])
      const started = performance.now()
      for (let i = 0; i < txns.length; i++) {
        writer.doc.transact(() => {
          for (const [pos, del, ins] of txns[i] ?? []) {
            if (del > 0) text.delete(pos, del)
            if (ins !== '') text.insert(pos, ins)
          }
        })
        if ((i + 1) % options.yieldEvery === 0) await yieldToIo()
      }
      const typedMs = performance.now() - started
      const final = text.toString()
      const observed = observer.doc.getText('text')
      await waitFor(() => observed.length === final.length && observed.toString() === final, {
        timeout: options.timeout,
        interval: 5,
        what: `the observer to have the final text (${observed.length} of ${final.length} characters)`,
      })
      const observerMs = performance.now() - started
      let savedMs: number | undefined
      if ('replica' in writer) {
        await (writer as { replica: Replica }).replica.whenSaved(room, { timeout: options.timeout })
        savedMs = performance.now() - started
      }
      writerState = Y.encodeStateAsUpdate(writer.doc)
      serverCpuMs = server.process.cpuMs() - cpu0
      serverPeakRssMiB = server.process.peakRssBytes() / 2 ** 20
      const relay = server.metrics === undefined ? undefined : relayFigures(await server.metrics())
      result = {
        relay,
        edits: txns.length,
        textLength: final.length,
        typedMs,
        observerMs,
        savedMs,
        writerCloses: [...writer.closes],
        observerCloses: [...observer.closes],
        cores: watch.stop(),
      }
    } finally {
      // SIGKILL as soon as the observer had everything: what the server acknowledged by
      // showing it to the observer must be on disk.
      await server.process.kill()
      await writer.close()
      await observer.close()
    }
    const expected = new Y.Doc()
    Y.applyUpdate(expected, writerState)
    const restarted = await target.start(data)
    try {
      const reader = await openClient(kind, restarted.url, room)
      try {
        await reader.synced()
        const survived = clockSum(reader.doc)
        const total = clockSum(expected)
        return {
          ...result,
          survivedPercent: total === 0 ? 100 : (100 * survived) / total,
          survivedWhole: reader.doc.getText('text').toString() === expected.getText('text').toString(),
          serverCpuMs,
          serverPeakRssMiB,
        }
      } finally {
        await reader.close()
      }
    } finally {
      await restarted.stop()
    }
  } finally {
    await rm(data, { recursive: true, force: true })
  }
}
