import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../bench/lib/free-port.js'
import { waitFor } from './wait.js'

export { freePort }

export const CLI = fileURLToPath(new URL('../../packages/relay/bin/converge.js', import.meta.url))

export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), `converge-${prefix}-`))

/** Node flags that preload the heap probe (heap-probe.mjs) into a relay process, for `heapAfterGc`. */
export const HEAP_PROBE_ARGS = ['--expose-gc', '--import', new URL('./heap-probe.mjs', import.meta.url).href]

/** process.memoryUsage() of a relay after a full collection (bytes). */
export interface HeapReading {
  heapUsed: number
  external: number
  arrayBuffers: number
  /** The part of heapUsed that is compiled code (V8's code spaces). */
  codeUsed: number
}

export interface RelayProcessOptions {
  port?: number
  data?: string
  peers?: string[]
  extraArgs?: string[]
  /** Node flags before the CLI (see `HEAP_PROBE_ARGS`). */
  nodeArgs?: string[]
  env?: Record<string, string>
  /** How long to wait for /readyz after a start, in ms. Default 15_000. */
  readyTimeout?: number
}

/**
 * A relay run as its own process through the `converge` CLI, on 127.0.0.1, that a test
 * can kill (SIGKILL) and restart on the same port and data directory.
 */
export class RelayProcess {
  port = 0
  data = ''
  child: ChildProcess | undefined
  output = ''
  private readonly options: RelayProcessOptions

  constructor(options: RelayProcessOptions = {}) {
    this.options = options
  }

  static async start(options: RelayProcessOptions = {}): Promise<RelayProcess> {
    const relay = new RelayProcess(options)
    relay.port = options.port ?? (await freePort())
    relay.data = options.data ?? (await tempDir('relay'))
    await relay.start()
    return relay
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async start(): Promise<void> {
    const args = [
      ...(this.options.nodeArgs ?? []),
      CLI,
      'relay',
      '--host',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--data',
      this.data,
      '--log-level',
      'warn',
    ]
    for (const p of this.options.peers ?? []) args.push('--peer', p)
    args.push(...(this.options.extraArgs ?? []))
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.options.env },
    })
    this.child = child
    child.stdout?.on('data', (d) => {
      this.output += d
    })
    child.stderr?.on('data', (d) => {
      this.output += d
    })
    // Ready when /readyz answers: the store is open and the port is bound.
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}:\n${this.output}`)
        const res = await fetch(`${this.httpUrl}/readyz`).catch(() => undefined)
        return res?.status === 200
      },
      { timeout: this.options.readyTimeout ?? 15_000, what: `relay on port ${this.port} to be ready` },
    )
  }

  /**
   * The live heap and buffers after a full collection (a relay started with
   * `nodeArgs: HEAP_PROBE_ARGS`): asks the preloaded probe with SIGUSR2 and reads its line.
   */
  async heapAfterGc(): Promise<HeapReading> {
    const child = this.child
    if (child === undefined || !this.alive) throw new Error('the relay is not running')
    const from = this.output.length
    child.kill('SIGUSR2')
    let reading: HeapReading | undefined
    await waitFor(
      () => {
        const line = /heap-probe (\{[^\n]*\})\n/.exec(this.output.slice(from))
        if (line !== null) reading = JSON.parse(line[1] as string) as HeapReading
        return reading !== undefined
      },
      { timeout: 15_000, what: 'the heap probe to answer' },
    )
    return reading as HeapReading
  }

  /** Kills the process with SIGKILL: no shutdown code runs. */
  async kill(): Promise<void> {
    const child = this.child
    if (child === undefined || !this.alive) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Stops the process with SIGTERM (graceful shutdown). */
  async stop(): Promise<void> {
    const child = this.child
    if (child === undefined || !this.alive) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }

  async restart(): Promise<void> {
    await this.kill()
    await this.start()
  }

  /** Kills the process and removes its data directory. */
  async dispose(): Promise<void> {
    await this.kill()
    await rm(this.data, { recursive: true, force: true })
  }
}
