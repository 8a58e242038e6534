/** Shows progress only for work that lasts longer than this, in ms: quick runs print nothing extra. */
export const PROGRESS_AFTER_MS = 1_000
const REDRAW_MS = 100

export interface Progress {
  update(done: number, total: number): void
  /** Clears the line (the caller prints its summary after). */
  end(): void
}

/**
 * A one-line progress display for `backup` and `restore` on a terminal: `backing up 1200/5000
 * documents (24%), 3.1 s`, redrawn at most every 100 ms, and only once the work has taken
 * more than a second. Not a terminal (a pipe, a file, CI): nothing at all.
 */
export const progressLine = (
  label: string,
  out: NodeJS.WriteStream = process.stdout,
  now: () => number = Date.now,
): Progress => {
  const start = now()
  let drawn = 0
  let shown = false
  if (out.isTTY !== true) return { update: () => undefined, end: () => undefined }
  return {
    update(done, total) {
      const t = now()
      if (t - start < PROGRESS_AFTER_MS || (t - drawn < REDRAW_MS && done < total)) return
      drawn = t
      shown = true
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
      out.write(`\r\x1b[K${label} ${done}/${total} documents (${percent}%), ${((t - start) / 1000).toFixed(1)} s`)
    },
    end() {
      if (shown) out.write('\r\x1b[K')
    },
  }
}
