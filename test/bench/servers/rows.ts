/** The rows of a scenario (one per server × client) and the helpers the tables share. */
import { type CoreLoad, formatOtherLoad, formatOwnLoad } from '../lib/core-load.js'
import type { Cell } from '../lib/report.js'
import { clientKinds } from './clients.js'
import { floorTargets, type ServerName, type ServerTarget, serverTargets } from './targets.js'

export interface Row<R> {
  server: ServerName
  client: string
  multiplexed: boolean
  result?: R
  error?: string
}

/** The row every "converge ×" ratio compares with: the converge relay driven by converge's own client. */
export const baselineOf = <R>(rows: Row<R>[], multiplexed = false): R | undefined =>
  rows.find((r) => r.server === 'converge' && r.client === 'converge' && r.multiplexed === multiplexed)?.result

/** The converge relay driven by the stock y-websocket client: what the goals compare with the anchors. */
export const stockConvergeOf = <R>(rows: Row<R>[]): R | undefined =>
  rows.find((r) => r.server === 'converge' && r.client === 'y-websocket' && !r.multiplexed)?.result

/** The anchors' rows (stock clients, one connection per document) that have a result. */
export const anchorRows = <R>(rows: Row<R>[]): Array<Row<R> & { result: R }> =>
  rows.filter(
    (r): r is Row<R> & { result: R } =>
      (r.server === 'y-websocket-server' || r.server === 'hocuspocus') && !r.multiplexed && r.result !== undefined,
  )

/** The row of floor server `name` (driven by its stock client), if it ran and has a result. */
export const floorRowOf = <R>(rows: Row<R>[], name: ServerName): (Row<R> & { result: R }) | undefined =>
  rows.find((r): r is Row<R> & { result: R } => r.server === name && !r.multiplexed && r.result !== undefined)

export const label = (r: Row<unknown>): [string, string] => {
  const target = [...serverTargets, ...floorTargets].find((t) => t.name === r.server) as ServerTarget
  return [target.label, `${clientKinds[r.client as keyof typeof clientKinds].label}${r.multiplexed ? ' (1 conn)' : ''}`]
}

/** Share of its core at or above which a process is taken to be the bottleneck. */
export const SATURATED = 0.9

/**
 * Which side bounded a measurement: "load gen." when the load generator used its core,
 * "load core" when it and other processes together filled it (the clients could not keep
 * up, on a shared machine), likewise "server" / "server core", else "neither".
 */
export const boundBy = (c: CoreLoad | undefined): string => {
  if (c === undefined) return '–'
  if (c.load >= SATURATED) return 'load gen.'
  if (c.load + c.otherOnLoadCore >= SATURATED) return 'load core'
  if (c.server >= SATURATED) return 'server'
  if (c.server + c.otherOnServerCore >= SATURATED) return 'server core'
  return 'neither'
}

/** The columns of a row saying how busy the two cores were and which side bounded it (`loadCells`). */
export const LOAD_HEADERS = ['busy % server/load', 'bound by', 'other % (noise)']

export const loadCells = (c: CoreLoad | undefined): Cell[] => [formatOwnLoad(c), boundBy(c), formatOtherLoad(c)]
