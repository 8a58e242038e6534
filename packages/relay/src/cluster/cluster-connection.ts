import { createHash } from 'node:crypto'
import { type JetStreamClient, jetstream } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { Logger } from 'pino'
import { ensureStreamAndBucket, natsConnectionOptions } from './nats-connection.js'
import type { ResolvedNatsOptions } from './nats-options.js'
import type { SnapshotBucket } from './nats-snapshots.js'
import type { ClusterSubjects } from './nats-subjects.js'

/** What a cluster connection tells its owner. */
export interface ClusterConnectionHooks {
  /** The client name NATS shows for this relay (asked when it connects). */
  name: () => string
  /** Connected, with the stream and bucket in place: core NATS is usable (presence). */
  opened: (nc: NatsConnection) => void
  /** Became usable (true) or not (false): NATS went away, came back, or the connection closed. */
  changed: (connected: boolean) => void
}

/**
 * A relay's connection to NATS: connecting (in the background, forever), setting up the
 * stream and the snapshot bucket, following the connection's status, publishing updates,
 * and letting a document's catch-up wait for the first connection after the relay starts.
 */
export class ClusterConnection {
  private readonly options: ResolvedNatsOptions
  private readonly subjects: ClusterSubjects
  private readonly log: Logger
  private readonly hooks: ClusterConnectionHooks
  private nc: NatsConnection | undefined
  private jsClient: JetStreamClient | undefined
  private bucket: SnapshotBucket | undefined
  private isConnected = false
  /** Until then, a load waits for the first connection (a relay just started should not serve a stale copy). */
  private startupGraceEnds = 0
  private readonly connectedWaiters = new Set<() => void>()
  private isClosed = false

  constructor(options: ResolvedNatsOptions, subjects: ClusterSubjects, log: Logger, hooks: ClusterConnectionHooks) {
    this.options = options
    this.subjects = subjects
    this.log = log
    this.hooks = hooks
  }

  /** Connected to NATS, with the stream and bucket in place. */
  get connected(): boolean {
    return this.isConnected
  }

  /** Closed by close(): no longer connecting, and errors are no longer worth reporting. */
  get closed(): boolean {
    return this.isClosed
  }

  /** The JetStream client, once connected. */
  get js(): JetStreamClient | undefined {
    return this.jsClient
  }

  /** The snapshot bucket, once set up. */
  get snapshots(): SnapshotBucket | undefined {
    return this.bucket
  }

  /** The core NATS connection, once made. */
  get connection(): NatsConnection | undefined {
    return this.nc
  }

  /** Starts connecting in the background; never waits for NATS (a relay serves without it). */
  start(): void {
    this.startupGraceEnds = Date.now() + this.options.catchupTimeout
    void this.connectLoop()
  }

  /** Right after start, resolves once connected or when the startup grace ends; later, at once. */
  async startupGrace(): Promise<void> {
    if (!this.isConnected && Date.now() < this.startupGraceEnds)
      await this.whenConnected(this.startupGraceEnds - Date.now())
  }

  /** Publishes an update to its document's subject (deduplicated by JetStream on its hash). */
  async publish(doc: string, update: Uint8Array): Promise<void> {
    const js = this.jsClient
    if (js === undefined) throw new Error('not connected to NATS')
    const msgID = createHash('sha256').update(doc).update('\0').update(update).digest('base64url')
    await js.publish(this.subjects.updates(doc), update, { msgID, timeout: this.options.publishTimeout })
  }

  /** Marks the connection closed (it stops connecting and reports no errors), then drains it. */
  async close(): Promise<void> {
    this.isClosed = true
    this.isConnected = false
    await this.nc?.drain().catch(() => undefined)
  }

  private async connectLoop(): Promise<void> {
    try {
      const nc = await connect(natsConnectionOptions(this.options, this.hooks.name()))
      if (this.isClosed) {
        await nc.close()
        return
      }
      this.nc = nc
      this.log.info({ server: nc.getServer() }, 'connected to NATS')
      void this.watchStatus(nc)
      this.jsClient = jetstream(nc, { timeout: this.options.publishTimeout })
      await this.setUp(nc)
      this.hooks.opened(nc)
      this.setConnected(true)
    } catch (err) {
      if (!this.isClosed) this.log.error({ err }, 'NATS connection failed')
    }
  }

  /** Creates the stream and the bucket unless they exist; retried until it works. */
  private async setUp(nc: NatsConnection): Promise<void> {
    for (let attempt = 0; !this.isClosed; attempt++) {
      try {
        this.bucket = await ensureStreamAndBucket(nc, this.options, this.subjects)
        return
      } catch (err) {
        this.log.warn({ err: (err as Error).message, attempt }, 'setting up the JetStream stream and bucket')
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)))
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') {
        if (this.isConnected) this.log.warn('disconnected from NATS: serving local clients, buffering publishes')
        this.setConnected(false)
      } else if (s.type === 'reconnect') {
        this.log.info({ server: s.server }, 'reconnected to NATS')
        if (this.bucket !== undefined) this.setConnected(true)
      }
    }
  }

  private setConnected(connected: boolean): void {
    this.isConnected = connected && !this.isClosed
    this.hooks.changed(this.isConnected)
    if (this.isConnected) {
      for (const resolve of this.connectedWaiters) resolve()
      this.connectedWaiters.clear()
    }
  }

  /** Resolves once connected, or after `ms`. */
  private whenConnected(ms: number): Promise<void> {
    if (this.isConnected) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.connectedWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.connectedWaiters.add(done)
    })
  }
}
