import { readFileSync } from 'node:fs'
import { LOAD_CPU, SERVER_CPU } from './pinning.js'
import { clockTicks, cpuMs, selfCpuMs } from './process-stats.js'

/** Busy time of each core so far, in ms (from /proc/stat); empty off Linux. */
const coreBusyMs = (): number[] => {
  try {
    const ticksPerMs = clockTicks() / 1000
    return readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l))
      .map((l) => {
        const [, user, nice, system, , , irq, softirq, steal] = l.split(/\s+/).map(Number)
        return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticksPerMs
      })
  } catch {
    return []
  }
}

/** How busy the two benchmark cores were while a figure was taken, as shares of the wall time. */
export interface CoreLoad {
  /** The server(s) under test, on the server core. */
  server: number
  /** This load generator, on the load core. */
  load: number
  /** Other processes (other people's work) on the server core: noise. */
  otherOnServerCore: number
  /** Other processes on the load core: noise. */
  otherOnLoadCore: number
}

/**
 * Watches the two cores during a measurement: their busy time minus the server's and the
 * load generator's own CPU time is what other processes took from them.
 */
export class CoreLoadWatch {
  private readonly serverPids: number[]
  private readonly start = performance.now()
  private readonly busy0 = coreBusyMs()
  private readonly server0: number
  private readonly load0 = selfCpuMs()

  /** `serverPids`: the processes pinned to the server core (one server, or every relay of a mesh). */
  constructor(serverPids: number[]) {
    this.serverPids = serverPids
    this.server0 = this.serverCpu()
  }

  private serverCpu(): number {
    return this.serverPids.reduce((sum, pid) => sum + cpuMs(pid), 0)
  }

  stop(): CoreLoad {
    const wall = performance.now() - this.start
    const busy = coreBusyMs()
    const server = this.serverCpu() - this.server0
    const load = selfCpuMs() - this.load0
    const delta = (core: number) => (busy[core] ?? Number.NaN) - (this.busy0[core] ?? Number.NaN)
    const share = (x: number) => Math.min(1, Math.max(0, x / wall))
    return {
      server: share(server),
      load: share(load),
      otherOnServerCore: share(delta(SERVER_CPU) - server),
      otherOnLoadCore: share(delta(LOAD_CPU) - load),
    }
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)}` : '?')

/** "93 / 40": the server's and the load generator's share of their cores, in %. */
export const formatOwnLoad = (c: CoreLoad | undefined): string =>
  c === undefined ? '–' : `${pct(c.server)} / ${pct(c.load)}`

/** "3 / 12": other processes' share of the server core / the load core, in % (noise). */
export const formatOtherLoad = (c: CoreLoad | undefined): string =>
  c === undefined ? '–' : `${pct(c.otherOnServerCore)} / ${pct(c.otherOnLoadCore)}`
