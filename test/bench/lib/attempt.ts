/** One measurement of a benchmark run, reported on stderr as it starts, ends or fails. */

/** A progress line on stderr (stdout holds the report). */
export const progress = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`)
}

/** What one measurement gave: its result, or the error that ended it. */
export interface Outcome<R> {
  result?: R
  error?: string
}

/**
 * Runs one measurement, saying on stderr what runs, how long it took or why it failed. A
 * failure is kept as the row's error (the other rows still run) instead of ending the run.
 */
export const attempt = async <R>(what: string, fn: () => Promise<R>): Promise<Outcome<R>> => {
  progress(`${what} …`)
  const started = Date.now()
  try {
    const result = await fn()
    progress(`${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    return { result }
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err)
    progress(`${what} FAILED: ${error}`)
    return { error }
  }
}
