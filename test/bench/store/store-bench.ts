/**
 * Storage benchmark: replays an editing trace (automerge-paper, 259,778 updates) through
 * the converge LevelStore and through y-leveldb 0.2.0 side by side in one run, and reports
 * persisted updates/s, the ratio, bytes on disk after compaction and cold-load time.
 * Prints tables and writes test/bench/results/<out>.json. A benchmark, not a timed test.
 *
 *   npm run bench:store [-- --quick] [--updates N] [--window N] [--docs N] [--runs N]
 *                       [--repeat N] [--no-y-leveldb] [--change-log] [--keep] [--out store]
 *
 * `--change-log` turns on LevelStore's change log (what a relay's change feed uses: one
 * record per append, in the same batch) in every converge scenario.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { commandLine, intArg as int, parseBenchArgs } from '../lib/bench-args.js'
import { besideThisFile } from '../lib/paths.js'
import { advantage, type Cell, describeMachine, kib, machineFacts, table, writeResults } from '../lib/report.js'
import { median } from '../lib/stats.js'
import { loadTrace } from '../lib/trace.js'
import { bytesOnDisk, convergeTarget, type StoreTarget, yLeveldbTarget } from './store-targets.js'
import { traceUpdates } from './trace-updates.js'

const { values: args } = parseBenchArgs({
  quick: { type: 'boolean', default: false },
  updates: { type: 'string' },
  window: { type: 'string', default: '1000' },
  docs: { type: 'string', default: '100' },
  runs: { type: 'string' },
  repeat: { type: 'string', default: '3' },
  'no-y-leveldb': { type: 'boolean', default: false },
  'change-log': { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  out: { type: 'string', default: 'store' },
})

const DOC = 'automerge-paper'
const changeLog = args['change-log'] === true

interface Replay {
  scenario: string
  store: string
  docs: number
  updates: number
  /** Appends a writer keeps in flight before it waits for the oldest. */
  window: number
  ms: number
  updatesPerSecond: number
  /** Longest the event loop was held during the replay (compactions run on it too). */
  maxEventLoopDelayMs: number
  cpuMs: number
  stats?: Record<string, number> | undefined
  /** updates/s of every repetition, when the scenario ran more than once. */
  runs?: number[]
}

/** Appends `updates` to `doc` in order, keeping up to `window` appends in flight. */
const pump = async (target: StoreTarget, doc: string, updates: Uint8Array[], window: number) => {
  let next = 0
  const writer = async () => {
    while (next < updates.length) await target.append(doc, updates[next++] as Uint8Array)
  }
  await Promise.all(Array.from({ length: Math.min(window, updates.length) }, writer))
}

const measure = async (
  scenario: string,
  target: StoreTarget,
  docs: string[],
  updates: Uint8Array[],
  window: number,
): Promise<Replay> => {
  const delay = monitorEventLoopDelay({ resolution: 5 })
  const cpu = process.cpuUsage()
  delay.enable()
  const started = performance.now()
  await Promise.all(docs.map((doc) => pump(target, doc, updates, window)))
  const ms = performance.now() - started
  delay.disable()
  const used = process.cpuUsage(cpu)
  const total = updates.length * docs.length
  const row: Replay = {
    scenario,
    store: target.name,
    docs: docs.length,
    updates: total,
    window,
    ms,
    updatesPerSecond: (total / ms) * 1000,
    maxEventLoopDelayMs: delay.max / 1e6,
    cpuMs: (used.user + used.system) / 1000,
    stats: target.stats(),
  }
  process.stderr.write(
    `[bench] ${scenario} / ${target.name}: ${Math.round(row.updatesPerSecond).toLocaleString('en-US')} updates/s\n`,
  )
  return row
}

const dirs: string[] = []
const freshDir = async (what: string) => {
  const dir = await mkdtemp(join(tmpdir(), `converge-bench-${what}-`))
  dirs.push(dir)
  return dir
}

/**
 * Times `runs` cold loads of each store against a bare Y.applyUpdate of the state, in a
 * fresh process (cold-load.ts): this process's heap, full of the replay's updates, would
 * slow Yjs down several times and blur the comparison.
 */
const coldLoads = async (runs: number, state: Uint8Array, textLength: number, stores: Array<[string, string]>) => {
  const stateFile = join(await freshDir('state'), 'state.bin')
  await writeFile(stateFile, state)
  const child = spawnSync(
    process.execPath,
    [
      besideThisFile(import.meta.url, 'cold-load.js'),
      stateFile,
      DOC,
      String(runs),
      String(textLength),
      ...stores.map(([n, d]) => `${n}=${d}`),
    ],
    { encoding: 'utf8' },
  )
  if (child.status !== 0) throw new Error(`cold-load.js failed: ${child.stderr}`)
  return new Map(Object.entries(JSON.parse(child.stdout) as Record<string, number[]>))
}

const main = async () => {
  const quick = args.quick === true
  const trace = loadTrace('automerge-paper')
  const edits = int(args.updates, quick ? 30_000 : trace.txns.length)
  const window = int(args.window, 1000)
  const docCount = int(args.docs, 100)
  const runs = int(args.runs, quick ? 3 : 15)
  const repeat = Math.max(1, int(args.repeat, 3))
  const withYLeveldb = args['no-y-leveldb'] !== true
  const machine = machineFacts(['yjs', 'y-leveldb', 'level'])
  console.log(describeMachine(machine))

  const t = performance.now()
  const { updates, state, text } = traceUpdates(trace, edits)
  console.log(
    `trace: ${trace.name} (${trace.source}), ${updates.length.toLocaleString('en-US')} updates, ` +
      `final state ${state.length.toLocaleString('en-US')} bytes; replayed in memory in ${Math.round(performance.now() - t)} ms\n`,
  )
  const replays: Replay[] = []
  const oneDoc = `1 doc, ≤ ${window} appends in flight`

  // 1. The trace into one document: converge `repeat` times around one y-leveldb run (a short
  // run catches more of a busy machine's noise than a long one); the median converge run is
  // reported. The first converge directory gives the storage figures.
  const convergeRuns: Replay[] = []
  let convergeDir = ''
  let compactMs = Number.NaN
  const convergeReplay = async () => {
    const dir = await freshDir('converge')
    const target = await convergeTarget(dir, { changeLog })
    convergeRuns.push(await measure(oneDoc, target, [DOC], updates, window))
    const started = performance.now()
    await target.compact(DOC)
    if (convergeDir === '') {
      convergeDir = dir
      compactMs = performance.now() - started
    }
    await target.close()
  }
  await convergeReplay()
  const convergeBytes = await bytesOnDisk(convergeDir)

  let yDir: string | undefined
  let yBytes: number | undefined
  let yRow: Replay | undefined
  if (withYLeveldb) {
    yDir = await freshDir('y-leveldb')
    const target = await yLeveldbTarget(yDir)
    yRow = await measure(oneDoc, target, [DOC], updates, window)
    await target.compact(DOC)
    await target.close()
    yBytes = await bytesOnDisk(yDir)
  }
  for (let i = 1; i < repeat; i++) await convergeReplay()
  const byRate = [...convergeRuns].sort((a, b) => a.updatesPerSecond - b.updatesPerSecond)
  replays.push({
    ...(byRate[Math.floor(byRate.length / 2)] as Replay),
    runs: convergeRuns.map((r) => r.updatesPerSecond),
  })
  if (yRow !== undefined) replays.push(yRow)

  // 2. One append at a time: group commit has nothing to group.
  let target = await convergeTarget(await freshDir('sequential'), { changeLog })
  replays.push(await measure('1 doc, one append at a time', target, [DOC], updates, 1))
  await target.close()

  // 3. Many documents written at once, each one append at a time, with and without fsync.
  const perDoc = updates.slice(0, Math.ceil(updates.length / docCount))
  const docs = Array.from({ length: docCount }, (_, i) => `doc-${i}`)
  const manyDocs = `${docCount} docs × ${perDoc.length.toLocaleString('en-US')} updates, each one at a time`
  for (const sync of [true, false]) {
    target = await convergeTarget(await freshDir(sync ? 'fsync' : 'many'), { sync, changeLog })
    replays.push(await measure(manyDocs, target, docs, perDoc, 1))
    await target.close()
  }

  // 4. Cold load of the compacted document, against a bare Y.applyUpdate of its encoded state.
  const stores: Array<[string, string]> = [['converge', convergeDir]]
  if (yDir !== undefined) stores.push(['y-leveldb', yDir])
  const times = await coldLoads(runs, state, text.length, stores)
  const med = (name: string) => (times.has(name) ? median(times.get(name) ?? []) : undefined)
  const bareMs = med('bare') ?? Number.NaN
  const convergeLoadMs = med('converge') ?? Number.NaN
  const convergeOpenLoadMs = med('converge with open') ?? Number.NaN

  // Report.
  const yRate = replays.find((r) => r.store.startsWith('y-leveldb'))?.updatesPerSecond ?? Number.NaN
  console.log(
    table(
      [
        'scenario',
        'store',
        'updates',
        's',
        'updates/s',
        'vs y-leveldb',
        'CPU µs/update',
        'compactions',
        'longest step ms',
        'loop delay ms',
      ],
      replays.map((r): Cell[] => [
        r.scenario,
        r.store,
        r.updates,
        r.ms / 1000,
        r.updatesPerSecond,
        r.store.startsWith('y-leveldb') ? '' : advantage(r.updatesPerSecond, yRate, true),
        (r.cpuMs * 1000) / r.updates,
        r.stats?.compactions,
        r.stats?.longestCompactionStepMs,
        r.maxEventLoopDelayMs,
      ]),
    ),
  )
  console.log()
  const ratio = (a: number, b: number) => `×${(a / b).toFixed(2)}`
  const ratioOf = (name: string) => {
    const ms = med(name)
    return ms === undefined ? undefined : ratio(ms, bareMs)
  }
  console.log(
    table(
      ['after the replay and a final compaction', 'converge LevelStore', 'y-leveldb 0.2.0', 'encoded state / bare'],
      [
        ['bytes on disk (KiB)', kib(convergeBytes), yBytes === undefined ? undefined : kib(yBytes), kib(state.length)],
        [
          'bytes on disk / encoded state',
          ratio(convergeBytes, state.length),
          yBytes && ratio(yBytes, state.length),
          '',
        ],
        [`cold load from the open store, median of ${runs} (ms)`, convergeLoadMs, med('y-leveldb'), bareMs],
        ['  ÷ bare Y.applyUpdate of the encoded state', ratio(convergeLoadMs, bareMs), ratioOf('y-leveldb'), ''],
        [`cold load with opening the database (ms)`, convergeOpenLoadMs, med('y-leveldb with open'), bareMs],
        [
          '  ÷ bare Y.applyUpdate of the encoded state',
          ratio(convergeOpenLoadMs, bareMs),
          ratioOf('y-leveldb with open'),
          '',
        ],
      ],
    ),
  )

  const fsyncRow = replays.find((r) => r.store.endsWith('(sync)'))
  const defaultRow = replays[0] as Replay
  const goals = [
    {
      goal: '≥ 50,000 persisted updates/s by default',
      value: defaultRow.updatesPerSecond,
      met: defaultRow.updatesPerSecond >= 50_000,
    },
    {
      goal: '≥ 15× y-leveldb',
      value: defaultRow.updatesPerSecond / yRate,
      met: defaultRow.updatesPerSecond / yRate >= 15,
    },
    {
      goal: `≥ 10,000 updates/s with fsync, ${docCount} documents writing`,
      value: fsyncRow?.updatesPerSecond ?? Number.NaN,
      met: (fsyncRow?.updatesPerSecond ?? 0) >= 10_000,
    },
    {
      goal: 'cold load (store open, document not in memory) ≤ 1.5× bare Y.applyUpdate',
      value: convergeLoadMs / bareMs,
      met: convergeLoadMs / bareMs <= 1.5,
    },
    {
      goal: '(the same, counting the opening of the database)',
      value: convergeOpenLoadMs / bareMs,
      met: convergeOpenLoadMs / bareMs <= 1.5,
    },
    {
      goal: 'bytes on disk ≤ 1.5× encoded state',
      value: convergeBytes / state.length,
      met: convergeBytes / state.length <= 1.5,
    },
  ]
  console.log()
  console.log(
    table(
      ['goal', 'measured', 'met'],
      goals.map((g) => [g.goal, g.value, g.met ? 'yes' : 'NO']),
    ),
  )

  const file = await writeResults(args.out ?? 'store', {
    benchmark: 'store',
    command: commandLine('npm run bench:store --'),
    date: new Date().toISOString(),
    machine,
    trace: { name: trace.name, source: trace.source, updates: updates.length, stateBytes: state.length },
    replays,
    finalCompactionMs: compactMs,
    storage: {
      encodedStateBytes: state.length,
      bytesOnDisk: { converge: convergeBytes, yLeveldb: yBytes },
      coldLoadMs: Object.fromEntries([...times].map(([k, v]) => [k, { median: median(v), runs: v }])),
    },
    goals,
  })
  console.log(`\nwrote ${file}`)
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(async () => {
    if (args.keep === true) console.log(`kept: ${dirs.join(' ')}`)
    else await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })
