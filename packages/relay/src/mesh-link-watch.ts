import { type Connector, DEFAULT_BACKOFF, type Peer } from '@converge/core'
import type { Logger } from 'pino'
import type { RelayMetrics } from './relay-metrics.js'

/** A dialed link down this long (and past a few attempts) is reported: one warning, /readyz degraded. */
export const MESH_LINK_UNREACHABLE_AFTER_MS = 5_000
const MIN_FAILED_ATTEMPTS = 3

/**
 * Watches one mesh link this relay dials, for people: a dial that keeps failing logs one
 * warning with its backoff (each retry only at debug, never a stack), counts in
 * converge_mesh_dial_failures_total, sets converge_mesh_link_up, and makes /readyz say
 * `degraded` until the link opens again.
 */
export class MeshLinkWatch {
  private failures = 0
  private downSince: number | undefined
  private warned = false
  private up = false
  private openedSinceDial = false
  /** The dialed peer, once watched. */
  peer: Peer | undefined

  constructor(
    readonly url: string,
    private readonly log: Logger,
    private readonly metrics: RelayMetrics,
    private readonly now: () => number = Date.now,
  ) {
    metrics.mesh.linkUp.set({ peer: url }, 0)
    metrics.mesh.dialFailures.inc({ peer: url }, 0)
  }

  /** `connector`, counting each dial: a dial that starts while the link is not up means the last one failed. */
  connector(connector: Connector): Connector {
    let dialed = false
    return () => {
      if (dialed && !this.openedSinceDial) this.failed()
      dialed = true
      this.openedSinceDial = false
      return connector()
    }
  }

  watch(peer: Peer): void {
    this.peer = peer
    peer.on('status', (status) => {
      if (status === 'open') this.opened()
      else if (this.up) {
        this.up = false
        this.metrics.mesh.linkUp.set({ peer: this.url }, 0)
        this.downSince = this.now()
        this.log.info({ peer: this.url, close: peer.lastClose }, 'mesh link lost, redialing')
      } else this.log.debug({ peer: this.url, status }, 'mesh link')
    })
    peer.on('error', (err) => this.log.warn({ peer: this.url, code: err.code, reason: err.message }, 'mesh link error'))
  }

  /** Why /readyz reports degraded for this link, if it does. */
  degradedReason(): string | undefined {
    if (!this.warned || this.downSince === undefined) return undefined
    const seconds = Math.round((this.now() - this.downSince) / 1000)
    return `mesh peer ${this.url} unreachable for ${seconds} s (${this.failures} failed attempts)`
  }

  private failed(): void {
    this.failures++
    this.downSince ??= this.now()
    this.metrics.mesh.dialFailures.inc({ peer: this.url })
    const close = this.peer?.lastClose
    this.log.debug({ peer: this.url, attempt: this.failures, close }, 'mesh dial failed, retrying')
    if (this.warned || this.failures < MIN_FAILED_ATTEMPTS) return
    if (this.now() - this.downSince < MESH_LINK_UNREACHABLE_AFTER_MS) return
    this.warned = true
    this.log.warn(
      {
        peer: this.url,
        attempts: this.failures,
        close: close === undefined ? undefined : `${close.code}${close.reason ? ` ${close.reason}` : ''}`,
        backoff: `${DEFAULT_BACKOFF.initialDelay} ms to ${DEFAULT_BACKOFF.maxDelay} ms, x${DEFAULT_BACKOFF.factor}, jitter`,
      },
      `cannot reach mesh peer ${this.url}; retrying with backoff (logged once; see /readyz and converge_mesh_link_up)`,
    )
  }

  private opened(): void {
    if (this.warned || this.failures > 0) {
      this.log.info({ peer: this.url, failedAttempts: this.failures }, 'mesh link open')
    } else this.log.info({ peer: this.url }, 'mesh link open')
    this.up = true
    this.openedSinceDial = true
    this.failures = 0
    this.downSince = undefined
    this.warned = false
    this.metrics.mesh.linkUp.set({ peer: this.url }, 1)
  }
}
