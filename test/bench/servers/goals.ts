/**
 * The goals of issue 12, checked on one run: the converge relay driven by the stock
 * y-websocket client against the best anchor (@y/websocket-server or Hocuspocus, each
 * with its stock client) per scenario, and against the scenario's floor server where it
 * has one (what the machine and the load generator allow a server that does no sync work).
 */
import { type Cell, formatCell, table } from '../lib/report.js'
import { median } from '../lib/stats.js'
import type { ColdSyncResult } from './cold-sync.js'
import type { FanOutResult } from './fan-out.js'
import type { JoinStormResult } from './join-storm.js'
import type { MemoryResult } from './memory.js'
import type { PresenceResult } from './presence.js'
import { anchorRows, floorRowOf, label, type Row, stockConvergeOf } from './rows.js'
import type { ServerName } from './targets.js'
import type { ThroughputResult } from './throughput.js'

export interface ScenarioRows {
  throughput?: Row<ThroughputResult>[]
  fanOut?: Row<FanOutResult>[]
  coldSync?: Row<ColdSyncResult>[]
  memory?: Row<MemoryResult>[]
  presence?: Row<PresenceResult>[]
  joinStorm?: Row<JoinStormResult>[]
}

export interface Goal {
  what: string
  goal: string
  converge: number
  bestAnchor: number
  bestAnchorName: string
  /** bestAnchor ÷ converge for lower-is-better figures (converge ÷ bestAnchor otherwise): > 1 means converge better. */
  ratio: number
  /** The same figure for the scenario's floor server, when it ran (see targets.ts floorTargets); the first of `floors` that ran. */
  floor?: number
  /** Each floor server of the scenario that ran, by name, with its figure (memory: bare ws + LevelDB, then bare ws). */
  floors?: Array<{ name: ServerName; value: number }>
  met: boolean
}

/** The best anchor row for `figure` (lowest, or highest when `higherIsBetter`). */
const best = <R>(rows: Row<R>[], figure: (r: R) => number, higherIsBetter = false) => {
  const anchors = anchorRows(rows).filter((r) => Number.isFinite(figure(r.result)))
  if (anchors.length === 0) return undefined
  const pick = anchors.reduce((a, b) => (higherIsBetter === figure(b.result) > figure(a.result) ? b : a))
  return { value: figure(pick.result), name: label(pick)[0] }
}

const goal = <R>(
  rows: Row<R>[] | undefined,
  what: string,
  text: string,
  figure: (r: R) => number,
  met: (converge: number, bestAnchor: number, c: R) => boolean,
  higherIsBetter = false,
  floorNames: ServerName[] = [],
): Goal | undefined => {
  if (rows === undefined) return undefined
  const c = stockConvergeOf(rows)
  const b = best(rows, figure, higherIsBetter)
  if (c === undefined || b === undefined) return undefined
  const v = figure(c)
  const floors = floorNames.flatMap((name) => {
    const row = floorRowOf(rows, name)
    return row === undefined ? [] : [{ name, value: figure(row.result) }]
  })
  return {
    what,
    goal: text,
    converge: v,
    bestAnchor: b.value,
    bestAnchorName: b.name,
    ratio: higherIsBetter ? v / b.value : b.value / v,
    ...(floors.length === 0 ? {} : { floor: floors[0]?.value, floors }),
    met: met(v, b.value, c),
  }
}

/**
 * The memory scenario's floors, in the order the goals table shows them: sockets and LevelDB
 * (bare-level-server.ts, the stock clients: what the closing note cites), then sockets alone.
 */
const MEMORY_FLOORS: ServerName[] = ['bare-ws-level', 'bare-ws']

/** Every goal the run has figures for. */
export const goalsOf = (s: ScenarioRows): Goal[] => {
  const presenceP99 = (rows: Row<PresenceResult>[]) =>
    Math.min(
      ...anchorRows(rows)
        .map((r) => r.result.delivery.p99)
        .filter(Number.isFinite),
    )
  // When the memory scenario read RSS (its goal rows say which reading they use).
  const memory = s.memory?.find((r) => r.result !== undefined)?.result
  const seconds = (ms: number | undefined) => (ms === undefined ? '?' : Math.round(ms / 100) / 10)
  const fanOutRuns = Math.max(1, ...(s.fanOut ?? []).map((r) => r.result?.p99Runs?.length ?? 1))
  return [
    goal(
      s.fanOut,
      fanOutRuns > 1 ? `fan-out: delivery p99 (ms), median of ${fanOutRuns} runs` : 'fan-out: delivery p99 (ms)',
      '≤ best anchor and ≤ 5 ms',
      (r) => (r.p99Runs === undefined ? r.delivery.p99 : median(r.p99Runs)),
      (c, b) => c <= b && c <= 5,
      false,
      ['bare-broadcast'],
    ),
    goal(
      s.memory,
      `memory: RSS per open doc, read ${seconds(memory?.settleMs)} s after opening (KiB)`,
      '≤ 36 KB (~35 KiB)',
      (r) => r.perDocKiB,
      (c) => c * 1.024 <= 36,
      false,
      MEMORY_FLOORS,
    ),
    goal(
      s.memory,
      `memory: RSS per open doc, steady state (read after ${seconds(memory?.steadyMs)} s idle, KiB)`,
      '≤ 36 KB (~35 KiB)',
      (r) => r.steadyPerDocKiB,
      (c) => c * 1.024 <= 36,
      false,
      MEMORY_FLOORS,
    ),
    goal(
      s.memory,
      'memory: heap per open doc (KiB)',
      '(reported; no goal of its own)',
      (r) => r.heapPerDocKiB,
      (c, b) => c <= b,
      false,
      MEMORY_FLOORS,
    ),
    goal(
      s.memory,
      'memory: heap left per doc after unload (KiB)',
      'back at the baseline (≤ 1 KiB/doc)',
      (r) => r.heapLeftPerDocKiB,
      (c) => c <= 1,
      false,
      MEMORY_FLOORS,
    ),
    // The same once the process has served a round of that size (memory.ts, againDocs): without what only the first round makes once (optimised code, tables grown to its peak).
    goal(
      memory !== undefined && memory.againDocs > 0 ? s.memory : undefined,
      'memory: heap left per doc after unload, 2nd round (KiB)',
      'back at the heap after the 1st round (≤ 1 KiB/doc)',
      (r) => r.heapLeftAgainPerDocKiB,
      (c) => c <= 1,
      false,
      MEMORY_FLOORS,
    ),
    goal(
      s.presence,
      'presence: server CPU (% of a core)',
      '≤ ½ best anchor, awareness p99 ≤ anchors’ + 50 ms',
      (r) => r.serverCpuShare * 100,
      (c, b, r) => c <= b / 2 && r.delivery.p99 <= presenceP99(s.presence as Row<PresenceResult>[]) + 50,
    ),
    goal(
      s.joinStorm,
      'join storm: server CPU (s)',
      '≤ ½ best anchor',
      (r) => r.serverCpuMs / 1000,
      (c, b) => c <= b / 2,
    ),
    goal(
      s.joinStorm,
      'join storm: peak RSS (MiB)',
      '≤ best anchor',
      (r) => r.peakRssMiB,
      (c, b) => c <= b,
    ),
    // Load-generator bound: every server sends the same bytes, and the stock client's apply
    // of the whole document on the load core is most of the wall time (cold-sync.ts).
    goal(
      s.coldSync,
      'warm sync: server CPU (ms)',
      '≤ best anchor (the wall time is the client’s: next row)',
      (r) => r.warmServerCpuMs,
      (c, b) => c <= b,
    ),
    goal(
      s.coldSync,
      'warm sync: wall time (ms), stock client apply included',
      '(reported: load-generator bound)',
      (r) => r.warmMedianMs,
      (c, b) => c <= b,
    ),
    goal(
      s.coldSync,
      'cold sync (ms)',
      'keep the lead',
      (r) => r.coldMedianMs,
      (c, b) => c <= b,
    ),
    goal(
      s.throughput,
      'updates persisted/s',
      'keep the lead',
      (r) => r.durablePerSecond,
      (c, b) => c >= b,
      true,
    ),
  ].filter((g): g is Goal => g !== undefined)
}

const ratioCell = (r: number): Cell => (Number.isFinite(r) ? `×${r >= 10 ? r.toFixed(1) : r.toFixed(2)}` : '–')

export const goalsTable = (goals: Goal[]): string =>
  `## Issue 12 goals: converge relay + stock y-websocket vs the best anchor and the floor, this run\n\n${table(
    [
      'scenario',
      'converge',
      'best anchor',
      'anchor',
      'converge × (> 1: better)',
      'floor (no sync work; memory: ws + LevelDB / ws)',
      'goal',
      'met',
    ],
    goals.map((g) => [
      g.what,
      g.converge,
      g.bestAnchor,
      g.bestAnchorName,
      ratioCell(g.ratio),
      g.floors === undefined ? '–' : g.floors.map((f) => formatCell(f.value)).join(' / '),
      g.goal,
      g.met ? 'yes' : 'NO',
    ]),
  )}`
