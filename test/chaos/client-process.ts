import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./chaos-client.mjs', import.meta.url))

export interface ClientProcessOptions {
  /** Name of this client: the prefix of its peer id and of its inserted ids. */
  id: string
  /** Which run of the client this is (it may be killed and started again on its directory). */
  incarnation: number
  /** Its LevelDB directory, kept across incarnations. */
  dir: string
  /** The relay it connects to. */
  url: string
  doc: string
  seed: number
  /** Ids per insert (one transaction), [min, max]. */
  batch: [number, number]
  /** Pause between inserts in ms, [min, max]: paces the load on a two-core machine. */
  pause: [number, number]
  backoff: { initialDelay: number; maxDelay: number }
  heartbeatInterval: number
  heartbeatTimeout: number
  /** How long the process may take to open its store and document, in ms. */
  startTimeout: number
}

/** What a replica holds: its array and its state vector. */
export interface ReplicaState {
  array: string[]
  stateVector: Uint8Array
}

/** A chaos client replica in a child process (test/chaos/chaos-client.mjs), driven over IPC. */
export class ClientProcess {
  readonly options: ClientProcessOptions
  /** Ids this incarnation inserted, and those a relay acknowledged as saved. */
  readonly inserted = new Set<string>()
  readonly acked = new Set<string>()
  /** This incarnation stopped cleanly: every insert was acknowledged. */
  stopped = false
  readonly log: string[] = []
  private readonly child: ChildProcess
  private readonly waiting = new Map<string, (m: Record<string, unknown>) => void>()
  private requests = 0
  private exited = false

  private constructor(options: ClientProcessOptions, child: ChildProcess) {
    this.options = options
    this.child = child
    child.on('message', (m: Record<string, unknown>) => this.receive(m))
    child.on('exit', (code, signal) => {
      this.exited = true
      for (const resolve of this.waiting.values()) resolve({ type: 'exit', code, signal })
      this.waiting.clear()
    })
  }

  /** Forks the client and resolves once it has opened its document. */
  static async start(options: ClientProcessOptions): Promise<ClientProcess> {
    // A clean Node: no flags or conditions inherited from the test runner, so the packages
    // resolve to their built dist as they would for a user.
    const { NODE_OPTIONS: _, ...env } = process.env
    const child = fork(SCRIPT, [JSON.stringify(options)], {
      execArgv: [],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const client = new ClientProcess(options, child)
    const ready = await client.next('ready', options.startTimeout)
    if (ready.type !== 'ready') throw new Error(`client ${client.name} did not start: ${client.log.join('\n')}`)
    return client
  }

  get name(): string {
    return `${this.options.id}.${this.options.incarnation}`
  }

  get alive(): boolean {
    return !this.exited
  }

  private receive(m: Record<string, unknown>): void {
    if (m.type === 'inserted') for (const id of m.ids as string[]) this.inserted.add(id)
    if (m.type === 'acked') for (const id of m.ids as string[]) this.acked.add(id)
    if (m.type === 'log') this.log.push(String(m.message))
    const key = m.type === 'state' ? `state:${m.id}` : String(m.type)
    const resolve = this.waiting.get(key)
    if (resolve !== undefined) {
      this.waiting.delete(key)
      resolve(m)
    }
  }

  /** The next message of `type`, or an 'exit' pseudo-message if the process ends first. */
  private next(key: string, timeout: number): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.resolve({ type: 'exit' })
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key)
        reject(new Error(`client ${this.name}: no ${key} within ${timeout} ms; log:\n${this.log.join('\n')}`))
      }, timeout)
      this.waiting.set(key, (m) => {
        clearTimeout(timer)
        resolve(m)
      })
    })
  }

  run(): void {
    this.child.send({ type: 'run' })
  }

  /** Stops inserting; resolves once every insert is acknowledged (which needs a relay). */
  async stop(timeout: number): Promise<void> {
    const stopped = this.next('stopped', timeout)
    this.child.send({ type: 'stop' })
    const m = await stopped
    if (m.type !== 'stopped') throw new Error(`client ${this.name} exited while stopping; log:\n${this.log.join('\n')}`)
    this.stopped = true
  }

  async state(timeout = 10_000): Promise<ReplicaState> {
    const id = String(this.requests++)
    const reply = this.next(`state:${id}`, timeout)
    this.child.send({ type: 'dump', id })
    const m = await reply
    if (m.type !== 'state') throw new Error(`client ${this.name} exited; log:\n${this.log.join('\n')}`)
    return { array: m.array as string[], stateVector: new Uint8Array(m.stateVector as number[]) }
  }

  /** SIGKILL: no shutdown code runs, unsaved local writes may be lost. */
  async kill(): Promise<void> {
    if (this.exited) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await exited
  }

  /** Ends the process: gracefully, or with SIGKILL after `timeout` ms. */
  async dispose(timeout = 5_000): Promise<void> {
    if (this.exited) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.send({ type: 'exit' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeout)
    await exited
    clearTimeout(timer)
  }
}
