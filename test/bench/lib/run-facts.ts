/** What every benchmark run says about itself: on stdout before its tables, and first in its JSON. */
import { commandLine } from './bench-args.js'
import { describeMachine, type MachineFacts, machineFacts } from './report.js'
import type { Trace } from './trace.js'

export interface RunFacts {
  /** The command line, as typed from the repository root. */
  command: string
  /** When the run started (ISO 8601). */
  date: string
  machine: MachineFacts
  /** What `pinSelf` did. */
  pinning: string
}

/** The facts of this run: `script` is how it was started (`pnpm bench:mesh --`), `packages` the versions to record. */
export const runFacts = (script: string, packages: string[], pinning: string): RunFacts => ({
  command: commandLine(script),
  date: new Date().toISOString(),
  machine: machineFacts(packages),
  pinning,
})

/**
 * Prints the head of the report: the title, the command, the machine and the pinning
 * (followed by `pinningNote`), then `lines`.
 */
export const printHeader = (title: string, run: RunFacts, lines: string[], pinningNote = ''): void => {
  const head = [`# ${title}`, '', `command: ${run.command}`, describeMachine(run.machine)]
  process.stdout.write(`${[...head, `pinning: ${run.pinning}${pinningNote}`, ...lines].join('\n')}\n`)
}

/** The report's `workload:` line for a trace run: its name, whether it was recorded or synthetic, and `detail`. */
export const traceWorkload = (trace: Trace, detail?: string): string =>
  `workload: ${trace.name} (${trace.source === 'trace' ? 'recorded trace' : 'SYNTHETIC, the trace was not found'}${detail === undefined ? '' : `, ${detail}`})`
