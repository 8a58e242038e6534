/**
 * Cluster benchmark (issue 14): three relays with documents spread over them, as a mesh
 * (every relay peers with the others) and as a cluster on NATS JetStream (one nats-server,
 * R1), in one run. Per document a stock y-websocket writer on its home relay and a reader
 * on the next relay: cross-relay delivery p50/p99, and each relay's CPU per update written.
 * Relays and nats-server are pinned to the server core, this load generator to the other.
 *
 *   node test/bench/dist/cluster/cluster-bench.js [--docs 30] [--updates 100] [--rate 300] [--out cluster]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { progress } from '../lib/attempt.js'
import { parseBenchArgs } from '../lib/bench-args.js'
import { convergeRelayArgv } from '../lib/converge-relay.js'
import { freePort } from '../lib/free-port.js'
import { LOAD_CPU, pinnedArgv, pinSelf, SERVER_CPU } from '../lib/pinning.js'
import { cpuMs } from '../lib/process-stats.js'
import { runMain, table, writeResults } from '../lib/report.js'
import { printHeader, runFacts } from '../lib/run-facts.js'
import { ServerProcess } from '../lib/server-process.js'
import { latencySummary } from '../lib/stats.js'
import { sleep, waitFor } from '../lib/wait.js'

const { values: args } = parseBenchArgs({
  docs: { type: 'string', default: '30' },
  updates: { type: 'string', default: '100' },
  rate: { type: 'string', default: '300' },
  out: { type: 'string', default: 'cluster' },
})
const DOCS = Number(args.docs)
const UPDATES = Number(args.updates)
/** Updates per second over all documents. */
const RATE = Number(args.rate)
const RELAYS = 3

interface Topology {
  name: string
  relays: ServerProcess[]
  ports: number[]
  extra?: { name: string; pid: number }
  stop(): Promise<void>
}

const startRelay = async (name: string, port: number, data: string, extra: string[]) =>
  ServerProcess.start({
    name,
    argv: convergeRelayArgv(port, data, extra),
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    startTimeout: 60_000,
  })

const startMesh = async (): Promise<Topology> => {
  const ports = await Promise.all(Array.from({ length: RELAYS }, () => freePort()))
  const dirs = await Promise.all(ports.map(() => mkdtemp(join(tmpdir(), 'converge-bench-cluster-mesh-'))))
  const relays: ServerProcess[] = []
  for (let i = 0; i < RELAYS; i++) {
    // A full mesh with each link dialed from one side.
    // Loopback only: the relays admit each other without peer tokens.
    const peers = ports.slice(i + 1).flatMap((p) => ['--peer', `ws://127.0.0.1:${p}`])
    relays.push(
      await startRelay(`mesh relay ${i}`, ports[i] as number, dirs[i] as string, [
        '--allow-unauthenticated-relays',
        ...peers,
      ]),
    )
  }
  return {
    name: 'mesh',
    relays,
    ports,
    async stop() {
      await Promise.all(relays.map((r) => r.kill()))
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
    },
  }
}

const startCluster = async (): Promise<Topology> => {
  const natsPort = await freePort()
  const monitor = await freePort()
  const natsDir = await mkdtemp(join(tmpdir(), 'converge-bench-nats-'))
  const argv = pinnedArgv(SERVER_CPU, [
    'nats-server',
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(natsPort),
    '-m',
    String(monitor),
    '-sd',
    natsDir,
  ])
  const nats: ChildProcess = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' })
  await waitFor(async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`).catch(() => undefined))?.ok === true, {
    timeout: 30_000,
    what: 'nats-server',
  })
  const ports = await Promise.all(Array.from({ length: RELAYS }, () => freePort()))
  const dirs = await Promise.all(ports.map(() => mkdtemp(join(tmpdir(), 'converge-bench-cluster-'))))
  const relays: ServerProcess[] = []
  for (let i = 0; i < RELAYS; i++) {
    relays.push(
      await startRelay(`cluster relay ${i}`, ports[i] as number, dirs[i] as string, [
        '--nats',
        `nats://127.0.0.1:${natsPort}`,
      ]),
    )
  }
  return {
    name: 'cluster (NATS)',
    relays,
    ports,
    extra: { name: 'nats-server', pid: nats.pid as number },
    async stop() {
      await Promise.all(relays.map((r) => r.kill()))
      nats.kill('SIGKILL')
      await Promise.all([...dirs, natsDir].map((d) => rm(d, { recursive: true, force: true })))
    },
  }
}

const client = (port: number, room: string) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}`, room, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  })
  return { doc, provider }
}

const run = async (topology: Topology) => {
  const run = Date.now().toString(36)
  const pairs = Array.from({ length: DOCS }, (_, i) => {
    const home = i % RELAYS
    const room = `bench-${run}-${i}`
    return {
      writer: client(topology.ports[home] as number, room),
      reader: client(topology.ports[(home + 1) % RELAYS] as number, room),
    }
  })
  await waitFor(() => pairs.every((p) => p.writer.provider.synced && p.reader.provider.synced), {
    timeout: 60_000,
    what: 'every client to sync',
  })
  const samples: number[] = []
  for (const { reader } of pairs) {
    reader.doc.getMap<number>('t').observe((event) => {
      const now = performance.now()
      for (const key of event.keysChanged) samples.push(now - (event.target.get(key) as number))
    })
  }
  const cpuBefore = topology.relays.map((r) => r.cpuMs())
  const extraBefore = topology.extra === undefined ? 0 : cpuMs(topology.extra.pid)
  const interval = 1000 / RATE
  const started = performance.now()
  for (let n = 0; n < UPDATES; n++) {
    for (let i = 0; i < DOCS; i++) {
      const due = started + (n * DOCS + i) * interval
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      pairs[i]?.writer.doc.getMap<number>('t').set(String(n), performance.now())
    }
  }
  const total = DOCS * UPDATES
  await waitFor(() => samples.length >= total, { timeout: 120_000, what: 'every update to reach its reader' })
  // Let the relays finish what follows delivery (acks, snapshots) before reading CPU.
  await sleep(500)
  const cpu = topology.relays.map((r, i) => r.cpuMs() - (cpuBefore[i] as number))
  const extraCpu = topology.extra === undefined ? undefined : cpuMs(topology.extra.pid) - extraBefore
  for (const p of pairs) {
    p.writer.provider.destroy()
    p.reader.provider.destroy()
  }
  return { latency: latencySummary(samples), cpu, extraCpu, total }
}

const main = async () => {
  const pinning = pinSelf(LOAD_CPU)
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error('nats-server not found: apt-get install nats-server')
  }
  const facts = runFacts('pnpm bench:cluster --', ['yjs', 'ws', '@nats-io/jetstream'], pinning)
  printHeader('Cluster benchmark: mesh against a cluster on NATS JetStream', facts, [
    `workload: ${DOCS} documents, ${UPDATES} updates each at ${RATE}/s in all; per document a y-websocket writer on relay i%3 and a reader on the next relay`,
  ])
  const results = []
  for (const start of [startMesh, startCluster]) {
    const topology = await start()
    try {
      progress(`${topology.name}: running`)
      const r = await run(topology)
      results.push({ topology: topology.name, ...r })
    } finally {
      await topology.stop()
    }
    await sleep(500)
  }
  process.stdout.write(
    `${table(
      [
        'topology',
        'p50 ms',
        'p99 ms',
        'max ms',
        'CPU/update, relay 0 (µs)',
        'relay 1',
        'relay 2',
        'relays in all',
        'nats-server',
      ],
      results.map((r) => [
        r.topology,
        r.latency.p50.toFixed(2),
        r.latency.p99.toFixed(2),
        r.latency.max.toFixed(1),
        ...r.cpu.map((c) => Math.round((c * 1000) / r.total)),
        Math.round((r.cpu.reduce((a, b) => a + b, 0) * 1000) / r.total),
        r.extraCpu === undefined ? '' : Math.round((r.extraCpu * 1000) / r.total),
      ]),
    )}\n`,
  )
  const file = await writeResults(args.out as string, {
    machine: facts.machine,
    pinning,
    docs: DOCS,
    updates: UPDATES,
    rate: RATE,
    results,
  })
  progress(`results in ${file}`)
}

runMain(main)
