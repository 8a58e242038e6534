import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { ADMIN_TOKEN, convergeRelayArgv, fetchDocState } from '../lib/converge-relay.js'
import { freePort } from '../lib/free-port.js'
import { ServerProcess } from '../lib/server-process.js'
import { type StateVectorObject, svCovers, svObject } from '../lib/state-vector.js'
import { sleep } from '../lib/wait.js'

/** How often `waitForState` polls the admin API, in ms. Default 10. */
export const STATE_POLL_MS = 10

/** One relay of a benchmark mesh: the converge CLI as its own process, pinned to the server core. */
export class MeshRelay {
  readonly name: string
  readonly port: number
  readonly data: string
  readonly process: ServerProcess

  private constructor(name: string, port: number, data: string, proc: ServerProcess) {
    this.name = name
    this.port = port
    this.data = data
    this.process = proc
  }

  /** Starts relay `name`, dialing each of `peers` (ws:// URLs). */
  static async start(name: string, peers: string[] = []): Promise<MeshRelay> {
    const port = await freePort()
    const data = await mkdtemp(join(tmpdir(), `converge-bench-mesh-${name}-`))
    const argv = convergeRelayArgv(port, data, ['--peer-id', name, '--allow-unauthenticated-relays'])
    for (const p of peers) argv.push('--peer', p)
    try {
      const proc = await ServerProcess.start({
        name: `relay ${name}`,
        argv,
        readyUrl: `http://127.0.0.1:${port}/readyz`,
      })
      return new MeshRelay(name, port, data, proc)
    } catch (err) {
      await rm(data, { recursive: true, force: true })
      throw err
    }
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  /** The document's durable state on this relay (admin API), or undefined when it has none. */
  state(doc: string): Promise<Uint8Array | undefined> {
    return fetchDocState(this.port, doc)
  }

  /** Names of the documents this relay stores. */
  async docs(): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/docs`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    return ((await res.json()) as { docs: string[] }).docs
  }

  /** Resolves (with performance.now()) once this relay's durable state of `doc` covers `want`. */
  async waitForState(doc: string, want: StateVectorObject, timeout = 60_000): Promise<number> {
    const deadline = performance.now() + timeout
    for (;;) {
      const state = await this.state(doc)
      if (state !== undefined && svCovers(svObject(Y.encodeStateVectorFromUpdate(state)), want))
        return performance.now()
      if (performance.now() > deadline) throw new Error(`relay ${this.name} did not get ${doc} within ${timeout} ms`)
      await sleep(STATE_POLL_MS)
    }
  }

  /** Metrics text (Prometheus). */
  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text()
  }

  async dispose(): Promise<void> {
    await this.process.stop()
    await rm(this.data, { recursive: true, force: true })
  }
}
