import type { ReplicaObserver, StoreStats } from '@converge/core'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { TrafficTally } from './traffic-tally.js'

/** Upgrades and TCP connections the relay's edge turned away. */
export interface EdgeMetrics {
  /** Refused WebSocket upgrades, by HTTP status. */
  readonly refused: Counter<'status'>
  /** Upgrades refused by the Origin or Host check. */
  readonly crossOrigin: Counter<'check'>
  /** TCP connections dropped by a per-address cap. */
  readonly capped: Counter<'cap'>
}

/** The mesh links this relay dials. */
export interface MeshMetrics {
  readonly linkUp: Gauge<'peer'>
  readonly dialFailures: Counter<'peer'>
}

/** Flow control: connections not read because their work in flight or their pacing passed a budget. */
export interface FlowMetrics {
  /** Times a connection was paused. */
  readonly pauses: Counter
  /** Time connections spent paused, added when each pause ends. */
  readonly pausedSeconds: Counter
  /** Connections paused now. */
  readonly paused: Gauge
}

/**
 * The relay's Prometheus metrics, and the ReplicaObserver that feeds them. Labels are
 * low-cardinality by design: message types and error codes, never peers or documents.
 */
export class RelayMetrics {
  readonly registry = new Registry()
  readonly connections: Gauge
  readonly peers: Gauge<'role'>
  readonly docsLoaded: Gauge
  readonly docsCold: Gauge
  readonly traffic: TrafficTally
  /** Latencies: persist (receive to durable), forward (receive to last send), sync (session start to step 2 applied). */
  readonly latency: { persist: Histogram; forward: Histogram; sync: Histogram }
  readonly errors: Counter<'kind'>
  readonly edge: EdgeMetrics
  readonly mesh: MeshMetrics
  readonly flow: FlowMetrics

  constructor(sources: { connections: () => number; store: () => StoreStats | undefined }) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'converge_' })
    // prom-client also exports these sums of the labelled gauges as gauges named *_total, which
    // Prometheus reserves for counters (promtool rejects them): sum() the labelled ones instead.
    for (const sum of ['active_resources_total', 'active_handles_total', 'active_requests_total']) {
      this.registry.removeSingleMetric(`converge_nodejs_${sum}`)
    }
    this.connections = new Gauge({
      name: 'converge_connections',
      help: 'Open WebSocket connections',
      registers,
      collect() {
        this.set(sources.connections())
      },
    })
    this.peers = new Gauge({
      name: 'converge_peers_connected',
      help: 'Peers past their handshake, by role',
      labelNames: ['role'],
      registers,
    })
    this.docsLoaded = new Gauge({ name: 'converge_docs_loaded', help: 'Documents loaded in memory', registers })
    this.docsCold = new Gauge({
      name: 'converge_docs_cold',
      help: 'Documents in memory served cold, from their encoded state (no Y.Doc)',
      registers,
    })
    this.traffic = new TrafficTally(registers)
    const persist = new Histogram({
      name: 'converge_persist_seconds',
      help: 'Time from receiving an update to its durable append',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    })
    const forward = new Histogram({
      name: 'converge_forward_seconds',
      help: 'Time from receiving an update to its last socket write to the other sessions (durable first)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    })
    const sync = new Histogram({
      name: 'converge_sync_seconds',
      help: 'Time from a session start until its sync step 2 was applied',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    })
    this.latency = { persist, forward, sync }
    this.errors = new Counter({
      name: 'converge_errors_total',
      help: 'Errors by kind: protocol error codes, store failures',
      labelNames: ['kind'],
      registers,
    })
    this.edge = {
      refused: new Counter({
        name: 'converge_upgrades_refused_total',
        help: 'Refused WebSocket upgrades, by HTTP status',
        labelNames: ['status'],
        registers,
      }),
      crossOrigin: new Counter({
        name: 'converge_upgrades_cross_origin_refused_total',
        help: 'Upgrades refused with 403 by the Origin or Host check, by check',
        labelNames: ['check'],
        registers,
      }),
      capped: new Counter({
        name: 'converge_connections_capped_total',
        help: 'TCP connections dropped by a per-address cap, by cap (connections, handshakes)',
        labelNames: ['cap'],
        registers,
      }),
    }
    this.mesh = {
      linkUp: new Gauge({
        name: 'converge_mesh_link_up',
        help: 'Whether the mesh link this relay dials to a peer is open (1) or not (0)',
        labelNames: ['peer'],
        registers,
      }),
      dialFailures: new Counter({
        name: 'converge_mesh_dial_failures_total',
        help: 'Dials to a mesh peer that failed before the link opened',
        labelNames: ['peer'],
        registers,
      }),
    }
    this.flow = {
      pauses: new Counter({
        name: 'converge_flow_pauses_total',
        help: 'Times flow control stopped reading a connection (its work in flight or its pacing passed a budget)',
        registers,
      }),
      pausedSeconds: new Counter({
        name: 'converge_flow_paused_seconds_total',
        help: 'Time connections spent paused by flow control, added when each pause ends',
        registers,
      }),
      paused: new Gauge({
        name: 'converge_flow_paused_connections',
        help: 'Connections paused by flow control now',
        registers,
      }),
    }
    // The store keeps totals since it opened; a counter's collect() sets it to that total.
    const storeCounter = (name: string, help: string, pick: (s: StoreStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const s = sources.store()
          if (s === undefined) return
          this.reset()
          this.inc(pick(s))
        },
      })
    storeCounter('converge_store_appends_total', 'Updates made durable by the store', (s) => s.appended)
    storeCounter('converge_store_batches_total', 'Batches written by the store', (s) => s.batches)
    storeCounter('converge_store_write_errors_total', 'Failed store writes', (s) => s.writeErrors)
    storeCounter('converge_store_compactions_total', 'Compactions completed', (s) => s.compactions)
  }

  /** The observer to give the relay's replica. */
  observer(): ReplicaObserver {
    return {
      messageIn: (_peer, type, bytes) => this.traffic.received(type, bytes),
      messageOut: (_peer, type, bytes) => this.traffic.sent(type, bytes),
      protocolError: (_peer, code) => this.errors.inc({ kind: code }),
      persisted: (_doc, _bytes, ms) => this.latency.persist.observe(ms / 1000),
      forwarded: (_doc, ms) => this.latency.forward.observe(ms / 1000),
      storeError: () => this.errors.inc({ kind: 'CONVERGE_STORE_WRITE_FAILED' }),
      synced: (_doc, ms) => this.latency.sync.observe(ms / 1000),
      peerOpened: (_peer, role) => this.peers.inc({ role }),
      peerClosed: (_peer, role) => this.peers.dec({ role }),
      flowPaused: () => {
        this.flow.pauses.inc()
        this.flow.paused.inc()
      },
      flowResumed: (_peer, ms) => {
        this.flow.paused.dec()
        this.flow.pausedSeconds.inc(ms / 1000)
      },
      docLoaded: () => this.docsLoaded.inc(),
      docCold: (_doc, cold) => (cold ? this.docsCold.inc() : this.docsCold.dec()),
      // A document served cold was never counted loaded (it has no Y.Doc).
      docUnloaded: (_doc, built) => {
        if (built !== false) this.docsLoaded.dec()
      },
    }
  }
}
