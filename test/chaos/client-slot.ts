import { rm } from 'node:fs/promises'
import { type RelayProcess, tempDir } from '../helpers/relay-process.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { ClientProcess, type ClientProcessOptions } from './client-process.js'

/**
 * One client of the chaos test across its incarnations: its LevelDB directory stays, the
 * process may be SIGKILLed and started again on it.
 */
export class ClientSlot {
  readonly incarnations: ClientProcess[] = []
  private readonly options: Omit<ClientProcessOptions, 'incarnation' | 'dir'>
  private readonly dir: string

  private constructor(options: Omit<ClientProcessOptions, 'incarnation' | 'dir'>, dir: string) {
    this.options = options
    this.dir = dir
  }

  static async start(options: Omit<ClientProcessOptions, 'incarnation' | 'dir'>): Promise<ClientSlot> {
    const slot = new ClientSlot(options, await tempDir('chaos-client'))
    await slot.restart()
    return slot
  }

  get current(): ClientProcess {
    return this.incarnations[this.incarnations.length - 1] as ClientProcess
  }

  get alive(): boolean {
    return this.current.alive
  }

  get id(): string {
    return this.options.id
  }

  /** Starts a new incarnation on the same directory (the previous one must be dead). */
  async restart(): Promise<ClientProcess> {
    const incarnation = this.incarnations.length
    const client = await ClientProcess.start({
      ...this.options,
      seed: this.options.seed * 1_000 + incarnation + 1,
      incarnation,
      dir: this.dir,
    })
    this.incarnations.push(client)
    return client
  }

  async kill(): Promise<void> {
    await this.current.kill()
  }

  async dispose(): Promise<void> {
    await this.current.dispose()
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** How a chaos test runs its clients (fields of its CHAOS table). */
export interface ChaosClients {
  clients: number
  doc: string
  batch: ClientProcessOptions['batch']
  insertPause: ClientProcessOptions['pause']
  clientBackoff: ClientProcessOptions['backoff']
  heartbeat: { interval: number; timeout: number }
  clientStartTimeout: number
}

/**
 * Starts `chaos.clients` client slots, the i-th (seed `seed + i`) on relay i % relays through
 * a TCP proxy the test can cut; pushes onto `cleanup` what closes each proxy and client.
 */
export const startClientSlots = async (
  relays: RelayProcess[],
  chaos: ChaosClients,
  seed: number,
  cleanup: Array<() => Promise<void>>,
): Promise<{ clientLinks: TcpProxy[]; clients: ClientSlot[] }> => {
  const clientLinks: TcpProxy[] = []
  const clients: ClientSlot[] = []
  for (let i = 0; i < chaos.clients; i++) {
    const proxy = await TcpProxy.start((relays[i % relays.length] as RelayProcess).port)
    cleanup.push(() => proxy.close())
    clientLinks.push(proxy)
    const client = await ClientSlot.start({
      id: `c${i}`,
      url: proxy.url,
      doc: chaos.doc,
      seed: seed + i,
      batch: chaos.batch,
      pause: chaos.insertPause,
      backoff: chaos.clientBackoff,
      heartbeatInterval: chaos.heartbeat.interval,
      heartbeatTimeout: chaos.heartbeat.timeout,
      startTimeout: chaos.clientStartTimeout,
    })
    cleanup.push(() => client.dispose())
    clients.push(client)
  }
  return { clientLinks, clients }
}
