import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Publishing to the stream (nats-publisher.ts). */
export interface NatsPublishMetrics {
  readonly acked: Counter
  readonly errors: Counter
  readonly pending: Gauge
  readonly ackSeconds: Histogram
  readonly unpublishedDocs: Gauge
  readonly republished: Counter
}

/** Applying updates from the stream. */
export interface NatsConsumeMetrics {
  readonly applied: Counter
  readonly errors: Counter
  readonly lagSeconds: Histogram
  /** Consumers ended because they went silent or were lost (their NATS node died), then made again. */
  readonly feedRestarts: Counter
  /** Updates read one by one by sequence while no consumer could be made. */
  readonly sequenceReads: Counter
}

/** Catching a document up before it loads. */
export interface NatsCatchupMetrics {
  readonly seconds: Histogram
  readonly updates: Counter
  readonly timeouts: Counter
}

/** The snapshot bucket. */
export interface NatsSnapshotsMetrics {
  readonly written: Counter
  readonly loaded: Counter
}

/** Presence bridged over core NATS. */
export interface NatsAwarenessMetrics {
  readonly received: Counter
  readonly sent: Counter
}

/** The cluster's Prometheus metrics, on the relay's registry. No document labels: cardinality stays flat. */
export class NatsMetrics {
  readonly connected: Gauge
  readonly feeds: Gauge
  readonly publish: NatsPublishMetrics
  readonly consume: NatsConsumeMetrics
  readonly catchup: NatsCatchupMetrics
  readonly snapshots: NatsSnapshotsMetrics
  readonly awareness: NatsAwarenessMetrics

  constructor(registry: Registry) {
    const registers = [registry]
    const lagBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]
    this.connected = new Gauge({ name: 'converge_nats_connected', help: '1 while connected to NATS', registers })
    this.feeds = new Gauge({
      name: 'converge_nats_feeds',
      help: 'Documents with a live stream consumer',
      registers,
    })
    this.publish = {
      acked: new Counter({
        name: 'converge_nats_published_total',
        help: 'Updates JetStream acknowledged',
        registers,
      }),
      errors: new Counter({
        name: 'converge_nats_publish_errors_total',
        help: 'Publishes that failed or timed out (their documents are republished whole)',
        registers,
      }),
      pending: new Gauge({
        name: 'converge_nats_publish_pending',
        help: 'Updates published and not yet acknowledged by JetStream',
        registers,
      }),
      ackSeconds: new Histogram({
        name: 'converge_nats_publish_ack_seconds',
        help: 'Publish lag: from an update being durable here to its JetStream acknowledgement',
        buckets: lagBuckets,
        registers,
      }),
      unpublishedDocs: new Gauge({
        name: 'converge_nats_unpublished_docs',
        help: 'Documents holding durable updates JetStream has not acknowledged (the persisted buffer)',
        registers,
      }),
      republished: new Counter({
        name: 'converge_nats_republished_total',
        help: 'Whole document states published after NATS came back or a publish failed',
        registers,
      }),
    }
    this.consume = {
      applied: new Counter({
        name: 'converge_nats_consumed_total',
        help: 'Updates received from the stream and applied',
        registers,
      }),
      errors: new Counter({
        name: 'converge_nats_consume_errors_total',
        help: 'Updates from the stream that could not be applied (malformed, store failure)',
        registers,
      }),
      lagSeconds: new Histogram({
        name: 'converge_nats_consume_lag_seconds',
        help: 'Consume lag: from an update entering the stream to it being applied here',
        buckets: lagBuckets,
        registers,
      }),
      feedRestarts: new Counter({
        name: 'converge_nats_feed_restarts_total',
        help: 'Stream consumers ended because they stopped answering (their NATS node died, say) or were lost, then started again after the last applied update',
        registers,
      }),
      sequenceReads: new Counter({
        name: 'converge_nats_feed_sequence_reads_total',
        help: 'Updates read one by one by stream sequence because no stream consumer could be made meanwhile',
        registers,
      }),
    }
    this.catchup = {
      seconds: new Histogram({
        name: 'converge_nats_catchup_seconds',
        help: 'Per-document catch-up on load: snapshot and stream read until the copy is current',
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
        registers,
      }),
      updates: new Counter({
        name: 'converge_nats_catchup_updates_total',
        help: 'Updates applied during catch-ups',
        registers,
      }),
      timeouts: new Counter({
        name: 'converge_nats_catchup_timeouts_total',
        help: 'Catch-ups that did not finish in time (the document was served from the local copy)',
        registers,
      }),
    }
    this.snapshots = {
      written: new Counter({
        name: 'converge_nats_snapshots_written_total',
        help: 'Snapshots written to the KV bucket',
        registers,
      }),
      loaded: new Counter({
        name: 'converge_nats_snapshots_loaded_total',
        help: 'Snapshots read during catch-ups because they were ahead of the local copy',
        registers,
      }),
    }
    this.awareness = {
      received: new Counter({
        name: 'converge_nats_awareness_in_total',
        help: 'Awareness updates received from other relays',
        registers,
      }),
      sent: new Counter({
        name: 'converge_nats_awareness_out_total',
        help: 'Awareness updates sent to other relays',
        registers,
      }),
    }
  }
}
