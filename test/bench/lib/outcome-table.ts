/** The markdown table of a scenario's outcomes: one row each, its figures or why it failed. */
import type { Outcome } from './attempt.js'
import { type Cell, table } from './report.js'

/**
 * One row per outcome: its `label` cells, then the `figures` of its result, or, when it
 * failed, `failed: <error>` and blanks across the remaining columns.
 */
export const outcomeTable = <O extends Outcome<unknown>>(
  headers: string[],
  rows: O[],
  label: (row: O) => Cell[],
  figures: (result: NonNullable<O['result']>, row: O) => Cell[],
): string =>
  table(
    headers,
    rows.map((row) => {
      const cells = label(row)
      if (row.result === undefined || row.result === null)
        return [...cells, `failed: ${row.error}`, ...Array(headers.length - cells.length - 1).fill('')]
      return [...cells, ...figures(row.result as NonNullable<O['result']>, row)]
    }),
  )
