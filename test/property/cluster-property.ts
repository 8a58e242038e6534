import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { Cluster, type ClusterShape } from './cluster.js'
import { commandArb, type Faults, type Model } from './cluster-commands.js'
import { checkConvergence } from './convergence-invariants.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

export interface ClusterPropertyOptions {
  /** The test's name, as `vitest -t` selects it. */
  name: string
  /** The test file's `import.meta.url`, for the replay command. */
  file: string
  shapes: fc.Arbitrary<ClusterShape>
  faults: Faults
  /** Most commands per run. */
  maxCommands: number
  /** Runs in CI. CONVERGE_PROPERTY_RUNS overrides it; CONVERGE_SOAK=1 multiplies it by SOAK_FACTOR. */
  runs: number
}

/** How many times more runs CONVERGE_SOAK=1 makes, when CONVERGE_PROPERTY_RUNS is not set. */
export const SOAK_FACTOR = 50
/**
 * Real ms one run may take before it counts as a failure (a run that hangs is a bug too).
 * Generous: the machine is shared, and a normal run takes well under a second.
 */
export const RUN_TIMEOUT_MS = 60_000
/**
 * Real ms after which a property in CI stops starting new runs (and reports what it
 * found, shrinking included), so the suite stays within its budget on a slow machine.
 * Off in a soak and in a replay.
 */
export const CI_TIME_BUDGET_MS = 45_000
/** The vitest timeout of a property in CI: its budget, then room for a run or shrink step in flight. */
export const CI_TEST_TIMEOUT_MS = CI_TIME_BUDGET_MS + 4 * RUN_TIMEOUT_MS
/** The vitest timeout of a soak or a replay, which have no budget. */
export const UNBOUNDED_TEST_TIMEOUT_MS = 24 * 3_600_000

const envInt = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`)
  return n
}

/** No time budget: a soak, or a replay (whose shrinking may take long). */
const unbounded = (): boolean =>
  process.env.CONVERGE_SOAK === '1' ||
  envInt('CONVERGE_PROPERTY_RUNS') !== undefined ||
  (process.env.CONVERGE_PROPERTY_PATH ?? '') !== ''

/** Runs for a property: CONVERGE_PROPERTY_RUNS, else the CI count (times SOAK_FACTOR under CONVERGE_SOAK=1). */
export const runsFor = (ciRuns: number): number =>
  envInt('CONVERGE_PROPERTY_RUNS') ?? (process.env.CONVERGE_SOAK === '1' ? ciRuns * SOAK_FACTOR : ciRuns)

/** The vitest timeout of a property. */
export const propertyTimeout = (): number => (unbounded() ? UNBOUNDED_TEST_TIMEOUT_MS : CI_TEST_TIMEOUT_MS)

/**
 * Checks that a cluster converges after any sequence of the given commands: builds the
 * cluster, runs the commands with the fast-check scheduler releasing store answers,
 * drives it to quiescence and checks the invariants. Seeded: CONVERGE_PROPERTY_SEED
 * (with CONVERGE_PROPERTY_PATH, the index of one run) replays a run; a failure prints
 * the exact command.
 */
export const checkClusterProperty = async (options: ClusterPropertyOptions): Promise<void> => {
  const seed = envInt('CONVERGE_PROPERTY_SEED') ?? Math.floor(Math.random() * 2 ** 31)
  const path = process.env.CONVERGE_PROPERTY_PATH || undefined
  // A path of one run index replays that run alone (and its shrinking).
  const numRuns = path !== undefined && !path.includes(':') ? 1 : runsFor(options.runs)
  const file = relative(REPO, fileURLToPath(options.file))
  const replay = (vars: string) =>
    `${vars} npx vitest run --config test/vitest.config.ts ${file} -t ${JSON.stringify(options.name)}`
  console.log(`[${options.name}] seed ${seed}, ${numRuns} runs; replay: ${replay(`CONVERGE_PROPERTY_SEED=${seed}`)}`)

  const property = fc.asyncProperty(
    options.shapes,
    fc.commands([commandArb(options.faults)], { maxCommands: options.maxCommands, size: 'max' }),
    fc.scheduler(),
    async (shape, commands, scheduler) => {
      const cluster = await Cluster.start(shape, scheduler)
      try {
        await fc.scheduledModelRun(scheduler, () => ({ model: {} as Model, real: cluster }), commands)
        await cluster.quiesce()
        await checkConvergence(cluster)
      } finally {
        await cluster.dispose()
      }
    },
  )
  const details = await fc.check(property, {
    seed,
    path,
    numRuns,
    timeout: RUN_TIMEOUT_MS,
    interruptAfterTimeLimit: unbounded() ? undefined : CI_TIME_BUDGET_MS,
    markInterruptAsFailure: false,
  })
  if (details.interrupted && !details.failed) {
    console.log(`[${options.name}] time budget reached after ${details.numRuns} of ${numRuns} runs`)
  }
  if (!details.failed) return
  // The run's index, not the whole shrink path: fc.scheduler's clones share one random
  // stream, so a shrunk scheduler replays exactly only when shrinking replays too.
  const run = (details.counterexamplePath ?? '').split(':')[0]
  const vars = `CONVERGE_PROPERTY_SEED=${details.seed}${run === '' ? '' : ` CONVERGE_PROPERTY_PATH=${run}`}`
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
  throw new Error(
    `${options.name} failed with seed ${details.seed}.\nReplay the failing run and its shrinking:\n  ${replay(vars)}\n\n${fc.defaultReportMessage(details)}\n\nThe shrunk counterexample failed with:\n${cause}`,
  )
}
