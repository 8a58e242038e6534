import { CloseCode, type Peer, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import * as prng from 'lib0/prng'
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { ADMIN_TOKEN, adminArgs, counter, relayDoc } from '../helpers/admin.js'
import { RelayProcess } from '../helpers/relay-process.js'
import { contentOf, nodeReplica } from '../helpers/replicas.js'
import { envInt, seedFor } from '../helpers/seed.js'
import { waitFor } from '../helpers/wait.js'
import { type FuzzFraming, fuzzDocs, layOut } from './fuzz-frames.js'
import { runFuzzSocket, type SocketOutcome } from './fuzz-socket.js'
import { gappedUpdate, missingDeleteRanges, missingOriginUpdate } from './fuzz-updates.js'
import { type PlanOptions, planSocket, socketRng } from './socket-plans.js'

const SOAK = process.env.CONVERGE_SOAK === '1'

/** Frames the relay must read (from its own metrics). CI: 10_000; soak: 200_000. */
const FRAMES = envInt('CONVERGE_FUZZ_FRAMES', SOAK ? 200_000 : 10_000)
/** The relay's frame limit: small, so frames over it (1009) are cheap to send. */
const MAX_MESSAGE_BYTES = 256 * 1024

const FUZZ = {
  frames: FRAMES,
  /** Sockets fuzzing at once. */
  concurrency: 4,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  /** The relay unloads idle documents quickly, so fuzzed state is reloaded from disk during the run. */
  unloadDelay: 500,
  /**
   * The relay's limit on pending (unresolvable) update bytes per document: small, so the
   * random updates with missing dependencies fill it and 4513 shows up in the run.
   */
  maxPendingBytes: 2 * 1024,
  /** Bound on the relay's resident memory growth over the run. */
  maxRssGrowthBytes: 200 * 1024 * 1024,
  /** The whole test, in ms: generous for a loaded machine, and scaled for soak runs. */
  testTimeout: 120_000 + FRAMES * 10,
  /** How long the relay has to answer a probe or close a socket, in ms. */
  answerTimeout: 20_000,
  /** The control clients must see each other's edit within this long, in ms. */
  controlTimeout: 20_000,
  /** Sockets per generation of fuzzed documents (see fuzzDocs). */
  socketsPerGeneration: 600,
  /** A control round (edit by one client, seen by the other) every this many sockets. */
  controlEvery: 25,
  plan: {
    mutationRate: 0.12,
    helloMutationRate: 0.05,
    relayRoleRate: 0.1,
    oversizedRate: 0.002,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxFrames: 80,
    maxChunk: 12,
  } satisfies PlanOptions,
}

/** The close codes close-codes.ts documents for a peer's fault (1000 and 1001 are not a verdict). */
const DOCUMENTED_CODES: ReadonlySet<number> = new Set([
  CloseCode.invalidPayload,
  CloseCode.messageTooBig,
  CloseCode.malformed,
  CloseCode.unauthorized,
  CloseCode.forbidden,
  CloseCode.heartbeatTimeout,
  CloseCode.limitExceeded,
  CloseCode.unsupportedVersion,
  CloseCode.rateLimited,
  CloseCode.tryAgainLater,
  CloseCode.storeFailure,
])

/**
 * A close that blames the relay, not the bytes: a bare JavaScript exception as the reason,
 * or 4500 (internal error, or a store failure on a healthy disk). Something threw where no
 * decoder or check classified the input, possibly after it was persisted.
 */
const relayFault = (close: { code: number; reason: string } | undefined) =>
  close !== undefined &&
  (close.code === CloseCode.storeFailure ||
    /^(Error|TypeError|RangeError|ReferenceError|SyntaxError)\b/.test(close.reason))

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

const startRelay = async (maxPendingBytes: number) => {
  const relay = await RelayProcess.start({
    extraArgs: [
      ...adminArgs,
      '--max-message-bytes',
      String(FUZZ.maxMessageBytes),
      '--unload-delay',
      String(FUZZ.unloadDelay),
      '--max-pending-bytes',
      String(maxPendingBytes),
    ],
  })
  cleanup.push(() => relay.dispose())
  return relay
}

/**
 * Two well-behaved clients on one document, one per framing, that count the frames they
 * send (to tell them from the fuzzer's in the relay's metrics) and every reconnect.
 */
const controlClients = async (relay: RelayProcess) => {
  let framesOut = 0
  let reconnects = 0
  const observer = { messageOut: () => void framesOut++ }
  const backoff = { initialDelay: 50, maxDelay: 500 }
  const writer = new Replica({ observer })
  const reader = new Replica({ observer })
  cleanup.push(
    () => writer.destroy(),
    () => reader.destroy(),
  )
  const watch = (peer: Peer) => {
    let opened = false
    peer.on('status', (status) => {
      if (status === 'open') opened = true
      else if (opened && status === 'connecting') reconnects++
    })
  }
  watch(writer.connect(websocket(relay.url), { backoff }))
  watch(
    reader.connect(websocket(`${relay.url}/control`, { protocols: [] }), {
      framing: { yWebsocketDoc: 'control' },
      backoff,
    }),
  )
  const written = await writer.open('control')
  const read = await reader.open('control')
  await writer.whenSynced('control', { timeout: FUZZ.controlTimeout })
  await reader.whenSynced('control', { timeout: FUZZ.controlTimeout })
  let round = 0
  return {
    written,
    read,
    get framesOut() {
      return framesOut
    },
    get reconnects() {
      return reconnects
    },
    /** One edit by the writer, awaited at the reader. */
    async roundTrip() {
      const tick = `tick-${round++}`
      written.getArray('array').push([tick])
      await waitFor(() => read.getArray('array').toArray().includes(tick), {
        timeout: FUZZ.controlTimeout,
        what: `the reader to receive ${tick} during the fuzz`,
      })
    },
  }
}

const admin = (relay: RelayProcess, path: string) =>
  fetch(`${relay.httpUrl}/api/docs${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })

/**
 * Every document the relay stores reads through the admin API (which applies the stored
 * bytes), and each of `syncDocs` syncs to a fresh client.
 */
const expectDocsLoad = async (relay: RelayProcess, syncDocs: string[]) => {
  const { docs } = (await (await admin(relay, '')).json()) as { docs: string[] }
  for (const name of docs) {
    expect((await admin(relay, `/${encodeURIComponent(name)}`)).status, `admin GET ${name}`).toBe(200)
  }
  const fresh = await nodeReplica(relay.url)
  try {
    for (const name of syncDocs) {
      await fresh.replica.open(name)
      await fresh.replica.whenSynced(name, { timeout: FUZZ.controlTimeout })
    }
  } finally {
    await fresh.dispose()
  }
}

/** Sockets per close code (0: kept open), with a sample reason for each code. */
const summarize = (outcomes: SocketOutcome[]) => {
  const byCode = new Map<number, { n: number; reason: string }>()
  for (const o of outcomes) {
    const key = o.relayClose?.code ?? 0
    const entry = byCode.get(key) ?? { n: 0, reason: o.relayClose?.reason ?? '' }
    entry.n++
    byCode.set(key, entry)
  }
  return [...byCode.entries()]
    .sort(([a], [b]) => a - b)
    .map(([code, { n, reason }]) => (code === 0 ? `kept open: ${n}` : `${code}: ${n} (e.g. ${JSON.stringify(reason)})`))
    .join(', ')
}

describe('a live relay fed random and mutated frames on both framings', () => {
  it(
    `stays up, closes each offending socket with a documented code, keeps other clients syncing, keeps memory bounded, and every fuzzed document still loads (≥${FUZZ.frames} frames)`,
    async () => {
      const seed = seedFor('fuzz', import.meta.url, SOAK ? { CONVERGE_SOAK: 1 } : {})
      const only = process.env.CONVERGE_FUZZ_SOCKET
      const relay = await startRelay(FUZZ.maxPendingBytes)
      const control = await controlClients(relay)
      await control.roundTrip()
      const rssBefore = await counter(relay, 'converge_process_resident_memory_bytes')
      const readBefore = await counter(relay, 'converge_messages_in_total')
      const controlBefore = control.framesOut
      const fuzzFramesRead = async () =>
        (await counter(relay, 'converge_messages_in_total')) - readBefore - (control.framesOut - controlBefore)

      const started = performance.now()
      const outcomes: SocketOutcome[] = []
      const failures: string[] = []
      let next = only === undefined ? 0 : Number(only)
      let done = false
      const worker = async () => {
        while (!done) {
          const index = next++
          const plan = planSocket(
            socketRng(seed, index),
            FUZZ.plan,
            fuzzDocs(Math.floor(index / FUZZ.socketsPerGeneration)),
          )
          const outcome = await runFuzzSocket(relay.url, plan, { answerTimeout: FUZZ.answerTimeout })
          outcomes.push(outcome)
          const code = outcome.relayClose?.code
          const problem =
            outcome.connectError ??
            outcome.stalled ??
            (outcome.undecodable > 0 ? `${outcome.undecodable} undecodable frames from the relay` : undefined) ??
            (code !== undefined && !DOCUMENTED_CODES.has(code) ? `closed with undocumented code ${code}` : undefined) ??
            (relayFault(outcome.relayClose) ? 'the relay failed on this input instead of refusing it' : undefined)
          if (problem !== undefined) {
            failures.push(
              `socket ${index} (${plan.framing} ${plan.doc.slice(0, 20)}): ${problem}; ` +
                `reason ${JSON.stringify(outcome.relayClose?.reason)} error ${JSON.stringify(outcome.relayError)}; ` +
                `chunk ${JSON.stringify(outcome.culprit)}; replay: CONVERGE_SEED=${seed} CONVERGE_FUZZ_SOCKET=${index}`,
            )
            done = true
          }
          if (only !== undefined) done = true
          if (outcomes.length % FUZZ.controlEvery === 0) {
            await control.roundTrip()
            if ((await fuzzFramesRead()) >= FUZZ.frames) done = true
          }
        }
      }
      await Promise.all(Array.from({ length: only === undefined ? FUZZ.concurrency : 1 }, worker))
      const seconds = (performance.now() - started) / 1000
      await control.roundTrip()
      const framesRead = await fuzzFramesRead()
      const rssAfter = await counter(relay, 'converge_process_resident_memory_bytes')
      const invalid = await counter(relay, 'converge_messages_in_total', (l) => l.includes('type="invalid"'))
      console.log(
        `[fuzz] ${outcomes.length} sockets, ${outcomes.reduce((n, o) => n + o.sent, 0)} frames sent, ` +
          `${framesRead} read by the relay (${invalid} undecodable) in ${seconds.toFixed(1)} s; ` +
          `closes: ${summarize(outcomes)}; relay RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
      )

      expect(failures).toEqual([])
      expect(relay.alive).toBe(true)
      expect(control.reconnects, 'control clients never lost their sockets').toBe(0)
      if (only === undefined) expect(framesRead).toBeGreaterThanOrEqual(FUZZ.frames)
      expect(rssAfter - rssBefore).toBeLessThan(FUZZ.maxRssGrowthBytes)

      // The relay never persisted bytes it cannot load: every fuzzed document opens, now
      // and after a SIGKILL and restart on the same data.
      const lastDocs = fuzzDocs(Math.floor((next - 1) / FUZZ.socketsPerGeneration))
      await expectDocsLoad(relay, lastDocs)
      await relay.kill()
      await relay.start()
      await expectDocsLoad(relay, [...lastDocs, 'control'])
      const stored: Y.Doc = await relayDoc(relay, 'control')
      expect(contentOf(stored)).toEqual(contentOf(control.written))
      const loadErrors = relay.output.split('\n').filter((l) => l.includes('"msg":"loading '))
      expect(loadErrors.map((l) => l.slice(0, 600))).toEqual([])
    },
    FUZZ.testTimeout,
  )

  it(
    'refuses updates with missing dependencies past maxPendingBytes with 4513, whether they skip clocks, point at missing origins or delete missing structs, and the flooded documents still load',
    async () => {
      const seed = seedFor('pending-flood', import.meta.url)
      const rng = prng.create(seed)
      const relay = await startRelay(FLOOD_MAX_PENDING_BYTES)
      const control = await controlClients(relay)
      // Each frame carries about FLOOD_FRAME_BYTES of dependent structs or deletions, so the
      // relay's limit is crossed after some ten frames.
      const floods: Array<[string, FuzzFraming, () => Uint8Array]> = [
        ['flood-gap', 'y-websocket', () => gappedUpdate(rng, FLOOD_FRAME_BYTES)],
        ['flood-origin', 'converge.v1', () => missingOriginUpdate(rng, FLOOD_FRAME_BYTES)],
        ['flood-delete', 'y-websocket', () => missingDeleteRanges(rng, FLOOD_FRAME_BYTES / 4)],
      ]
      for (const [doc, framing, update] of floods) {
        const frames = Array.from({ length: FLOOD_MAX_FRAMES }, () => [
          { data: layOut({ type: 'update', doc, update: update() }, framing).bytes, label: doc },
        ])
        const hello = layOut({ type: 'hello', version: 1, peerId: 'flood', role: 'client', token: '' }, framing)
        const outcome = await runFuzzSocket(
          relay.url,
          { framing, doc, hello: { data: hello.bytes, label: 'hello' }, chunks: frames },
          { answerTimeout: FUZZ.answerTimeout },
        )
        console.log(`[pending-flood] ${doc}: ${outcome.sent} frames sent, closed ${outcome.relayClose?.code}`)
        expect(outcome.relayClose?.code, `${doc}: ${outcome.relayClose?.reason ?? outcome.stalled}`).toBe(
          CloseCode.limitExceeded,
        )
        await control.roundTrip()
      }
      expect(control.reconnects).toBe(0)
      const docs = floods.map(([doc]) => doc)
      await expectDocsLoad(relay, docs)
      await relay.kill()
      await relay.start()
      await expectDocsLoad(relay, docs)
    },
    FUZZ.testTimeout,
  )
})

/** The flooded relay's limit on pending bytes per document. */
const FLOOD_MAX_PENDING_BYTES = 512 * 1024
/** Bytes of dependent content per flood frame (under the fuzzed relay's frame limit). */
const FLOOD_FRAME_BYTES = 64_000
/** Frames a flood may send before the relay must have refused one. */
const FLOOD_MAX_FRAMES = 40
