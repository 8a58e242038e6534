import { type ChildProcess, spawn } from 'node:child_process'
import { pinnedArgv, SERVER_CPU } from './pinning.js'
import { cpuMs, cpuPreciseMs, cpuSplitMs, peakRssBytes, rssBytes } from './process-stats.js'
import { waitFor } from './wait.js'

export interface ServerProcessOptions {
  /** Shown in errors and reports. */
  name: string
  /** The command without pinning, e.g. [process.execPath, 'bin.js', ...]. */
  argv: string[]
  env?: Record<string, string>
  /** Core to pin to with taskset. Default SERVER_CPU (0). */
  cpu?: number
  /** Open an IPC channel (the anchors' drain probes answer on it). Default false. */
  ipc?: boolean
  /** An HTTP URL that answers once the server listens. */
  readyUrl: string
  /** How long the server may take to answer readyUrl, in ms. Default 20_000. */
  startTimeout?: number
}

/**
 * BENCH_SERVER_NODE_ARGS (space-separated) go to every server's node, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them (written on a clean exit).
 */
const withNodeArgs = (argv: string[]): string[] => {
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)
  return extra.length > 0 && argv[0] === process.execPath ? [argv[0], ...extra, ...argv.slice(1)] : argv
}

interface Pending {
  resolve: (reply: Record<string, unknown>) => void
  reject: (err: Error) => void
}

/** A server under test, run as its own pinned process. */
export class ServerProcess {
  readonly child: ChildProcess
  readonly options: ServerProcessOptions
  /** The command line that started it (with taskset), for the report. */
  readonly commandLine: string
  output = ''
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  private constructor(options: ServerProcessOptions) {
    this.options = options
    const argv = pinnedArgv(options.cpu ?? SERVER_CPU, withNodeArgs(options.argv))
    this.commandLine = argv.join(' ')
    this.child = spawn(argv[0] as string, argv.slice(1), {
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    })
    const keep = (d: Buffer) => {
      // Keep the tail only: a chatty server must not grow the load generator's memory.
      this.output = (this.output + d.toString()).slice(-20_000)
    }
    this.child.stdout?.on('data', keep)
    this.child.stderr?.on('data', keep)
    this.child.on('message', (m: { id?: number; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id)
      if (p === undefined || m.id === undefined) return
      this.pending.delete(m.id)
      if (m.error !== undefined) p.reject(new Error(`${options.name}: ${m.error}`))
      else p.resolve(m as Record<string, unknown>)
    })
    this.child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`${options.name} exited (${code ?? signal})`))
      this.pending.clear()
    })
  }

  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const server = new ServerProcess(options)
    // A server that never answers is killed, not left running.
    await waitFor(
      async () => {
        if (!server.alive) throw new Error(`${options.name} exited with ${server.child.exitCode}:\n${server.output}`)
        const res = await fetch(options.readyUrl).catch(() => undefined)
        await res?.arrayBuffer().catch(() => undefined)
        return res !== undefined && res.status < 500
      },
      { timeout: options.startTimeout ?? 20_000, interval: 20, what: `${options.name} to listen` },
    ).catch(async (err) => {
      await server.kill()
      throw err
    })
    return server
  }

  get pid(): number {
    return this.child.pid as number
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** CPU time the server has used so far, in ms. */
  cpuMs(): number {
    return cpuMs(this.pid)
  }

  /** CPU time so far of the live threads, in ms with sub-millisecond resolution (for short spans; process-stats.ts). */
  cpuPreciseMs(): number {
    return cpuPreciseMs(this.pid)
  }

  /** CPU time so far, user and system (kernel), in ms. */
  cpuSplitMs(): { user: number; system: number } {
    return cpuSplitMs(this.pid)
  }

  rssBytes(): number {
    return rssBytes(this.pid)
  }

  peakRssBytes(): number {
    return peakRssBytes(this.pid)
  }

  /** Sends `message` over IPC and resolves with the reply that carries the same id. */
  request(message: Record<string, unknown>, timeout = 120_000): Promise<Record<string, unknown>> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.options.name} did not answer ${JSON.stringify(message.type)} within ${timeout} ms`))
      }, timeout)
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer)
          resolve(r)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.child.send({ ...message, id })
    })
  }

  /** SIGKILL: nothing of the server's shutdown code runs. */
  async kill(): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await exited
  }

  /** SIGTERM, then SIGKILL if the server is still up after `grace` ms. */
  async stop(grace = 5_000): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), grace)
    await exited
    clearTimeout(timer)
  }
}
