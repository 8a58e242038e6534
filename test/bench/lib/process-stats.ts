import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

let ticks: number | undefined

/** Clock ticks per second of /proc times (USER_HZ, usually 100). */
export const clockTicks = (): number => {
  if (ticks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
    const n = Number(r.stdout?.trim())
    ticks = Number.isFinite(n) && n > 0 ? n : 100
  }
  return ticks
}

/** User and system (kernel) CPU time of process `pid` (all its threads), in ms; NaN off Linux. */
export const cpuSplitMs = (pid: number): { user: number; system: number } => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces: fields count from after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ms = 1000 / clockTicks()
    return { user: Number(fields[11]) * ms, system: Number(fields[12]) * ms }
  } catch {
    return { user: Number.NaN, system: Number.NaN }
  }
}

/** User + system CPU time of process `pid` (all its threads), in ms; NaN off Linux. */
export const cpuMs = (pid: number): number => {
  const { user, system } = cpuSplitMs(pid)
  return user + system
}

/**
 * CPU time of process `pid`, in ms with sub-millisecond resolution: the sum of its live
 * threads' run time from /proc/PID/task/TID/schedstat (ns), where `cpuMs` counts clock ticks
 * (10 ms). For short spans: a thread that exits in between takes its time out of the sum.
 * NaN off Linux.
 */
export const cpuPreciseMs = (pid: number): number => {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // The thread exited while being read.
      }
    }
    return ns / 1e6
  } catch {
    return Number.NaN
  }
}

const statusField = (pid: number, field: string): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    return m ? Number(m[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Resident set size of process `pid`, in bytes; NaN off Linux. */
export const rssBytes = (pid: number): number => statusField(pid, 'VmRSS')

/** Peak resident set size of process `pid`, in bytes; NaN off Linux. */
export const peakRssBytes = (pid: number): number => statusField(pid, 'VmHWM')

/** CPU time of this process (the load generator), in ms. */
export const selfCpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
