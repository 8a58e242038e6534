import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { freePort, tempDir } from './relay-process.js'
import { waitFor } from './wait.js'

/**
 * The nats-server binary: $CONVERGE_NATS_SERVER, else `nats-server` on the PATH, else
 * Debian's /usr/sbin/nats-server (not on a user's PATH); undefined when absent.
 */
export const natsServerBinary = (): string | undefined => {
  const candidates = process.env.CONVERGE_NATS_SERVER
    ? [process.env.CONVERGE_NATS_SERVER]
    : ['nats-server', '/usr/sbin/nats-server']
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  return undefined
}

/** CI sets CONVERGE_REQUIRE_NATS=1: there, a missing nats-server fails instead of skipping. */
export const natsRequired = process.env.CONVERGE_REQUIRE_NATS === '1'

/**
 * A describe block that needs a nats-server binary. Without one it skips and says so on
 * the console, or fails when CONVERGE_REQUIRE_NATS=1.
 */
export const describeWithNats = (name: string, body: (binary: string) => void): void => {
  const binary = natsServerBinary()
  if (binary !== undefined) {
    describe(name, () => body(binary))
    return
  }
  if (natsRequired) {
    describe(name, () => {
      it('needs nats-server (CONVERGE_REQUIRE_NATS=1)', () => {
        throw new Error('nats-server not found: install it (apt-get install nats-server) or set CONVERGE_NATS_SERVER')
      })
    })
    return
  }
  console.log(
    `[nats] SKIPPED "${name}": nats-server not found. Install it (apt-get install nats-server) or set CONVERGE_NATS_SERVER to run it; CI requires it.`,
  )
  describe.skip(name, () => body(''))
}

interface NatsNode {
  name: string
  port: number
  clusterPort: number
  monitorPort: number
  config: string
  child: ChildProcess | undefined
  output: string
}

/**
 * A JetStream cluster of nats-server processes on loopback ports, with its configs and
 * stores in a temp dir. Nodes can be killed (SIGKILL) and started again on the same
 * ports and store.
 */
export class NatsServers {
  readonly nodes: NatsNode[] = []
  dir = ''

  private constructor(
    private readonly binary: string,
    /** The nodes' `max_payload` (nats-server's own default is 1MB). */
    private readonly maxPayload: string,
  ) {}

  static async start(binary: string, count = 3, options: { maxPayload?: string } = {}): Promise<NatsServers> {
    const servers = new NatsServers(binary, options.maxPayload ?? '8MB')
    servers.dir = await tempDir('nats')
    // A free port can be taken by another test between choosing it and nats-server binding
    // it: then every node starts again on newly chosen ports.
    for (let attempt = 1; ; attempt++) {
      try {
        await servers.startOnFreePorts(count)
        break
      } catch (err) {
        const taken = servers.nodes.some((n) => n.output.includes('address already in use'))
        for (const node of servers.nodes) node.child?.kill('SIGKILL')
        servers.nodes.length = 0
        if (!taken || attempt === 3) throw err
      }
    }
    await servers.waitHealthy()
    return servers
  }

  private async startOnFreePorts(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.nodes.push({
        name: `n${i + 1}`,
        port: await freePort(),
        clusterPort: await freePort(),
        monitorPort: await freePort(),
        config: join(this.dir, `n${i + 1}.conf`),
        child: undefined,
        output: '',
      })
    }
    for (const node of this.nodes) await writeFile(node.config, this.configOf(node))
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)))
  }

  /** Client URLs of every node, comma-separated (for --nats). */
  get urls(): string {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(',')
  }

  private configOf(node: NatsNode): string {
    const routes = this.nodes
      .filter((n) => n !== node)
      .map((n) => `nats-route://127.0.0.1:${n.clusterPort}`)
      .join(', ')
    const cluster =
      this.nodes.length > 1
        ? `cluster {\n  name: converge-test\n  listen: 127.0.0.1:${node.clusterPort}\n  routes: [${routes}]\n}\n`
        : ''
    return [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.port}`,
      `http: 127.0.0.1:${node.monitorPort}`,
      `max_payload: ${this.maxPayload}`,
      `jetstream {\n  store_dir: "${join(this.dir, node.name)}"\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}`,
      cluster,
    ].join('\n')
  }

  async startNode(i: number): Promise<void> {
    const node = this.nodes[i] as NatsNode
    if (node.child !== undefined && node.child.exitCode === null && node.child.signalCode === null) return
    const child = spawn(this.binary, ['-c', node.config], { stdio: ['ignore', 'pipe', 'pipe'] })
    node.child = child
    node.output = ''
    child.stdout?.on('data', (d) => {
      node.output += d
    })
    child.stderr?.on('data', (d) => {
      node.output += d
    })
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`nats-server ${node.name} exited:\n${node.output}`)
        const res = await fetch(`http://127.0.0.1:${node.monitorPort}/varz`).catch(() => undefined)
        return res?.ok === true
      },
      { timeout: 15_000, what: `nats-server ${node.name} to listen` },
    )
  }

  /** Waits until every running node reports JetStream healthy (a meta leader elected). */
  async waitHealthy(timeout = 30_000): Promise<void> {
    await waitFor(
      async () => {
        for (const node of this.nodes) {
          if (node.child === undefined || node.child.exitCode !== null || node.child.signalCode !== null) continue
          const res = await fetch(`http://127.0.0.1:${node.monitorPort}/healthz`).catch(() => undefined)
          if (res?.ok !== true) return false
        }
        return true
      },
      { timeout, interval: 200, what: 'the NATS cluster to be healthy' },
    )
  }

  /** SIGKILLs node `i`. */
  async kill(i: number): Promise<void> {
    const child = this.nodes[i]?.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.kill(i)))
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)))
  }

  async dispose(): Promise<void> {
    await this.killAll()
    await rm(this.dir, { recursive: true, force: true })
  }
}
