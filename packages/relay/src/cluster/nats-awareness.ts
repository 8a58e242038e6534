import type { Replica } from '@converge/core'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { type Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import type { NatsMetrics } from './nats-metrics.js'
import type { ClusterSubjects } from './nats-subjects.js'

/** Origin of awareness changes that came from other relays: they are not sent back. */
export const NATS_AWARENESS_ORIGIN = Symbol('converge:nats-awareness')

interface Bridge {
  awareness: Awareness
  subscription: Subscription | undefined
  onUpdate: (change: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void
}

/**
 * Presence across relays over core NATS (no persistence): each relay sends the awareness
 * changes of its clients on `<prefix>.aw.<doc>` and applies what the others send, for the
 * documents it has loaded. The connection does not echo a relay's own messages.
 */
export class NatsAwareness {
  private readonly bridges = new Map<string, Bridge>()
  private nc: NatsConnection | undefined

  constructor(
    private readonly replica: Replica,
    private readonly subjects: ClusterSubjects,
    private readonly metrics: NatsMetrics,
    private readonly reportError: (err: unknown, context: string) => void,
  ) {}

  /** The connection is up: subscribe every loaded document. */
  connected(nc: NatsConnection): void {
    this.nc = nc
    for (const [doc, bridge] of this.bridges) if (bridge.subscription === undefined) this.subscribe(doc, bridge)
  }

  docLoaded(doc: string): void {
    if (this.bridges.has(doc)) return
    let awareness: Awareness
    try {
      awareness = this.replica.awareness(doc)
    } catch {
      return
    }
    const bridge: Bridge = {
      awareness,
      subscription: undefined,
      onUpdate: (change, origin) => {
        if (origin === NATS_AWARENESS_ORIGIN || this.nc === undefined || this.nc.isClosed()) return
        const clients = [...change.added, ...change.updated, ...change.removed]
        try {
          this.nc.publish(this.subjects.awareness(doc), encodeAwarenessUpdate(awareness, clients))
          this.metrics.awareness.sent.inc()
        } catch (err) {
          this.reportError(err, `sending presence of ${doc}`)
        }
      },
    }
    awareness.on('update', bridge.onUpdate)
    this.bridges.set(doc, bridge)
    this.subscribe(doc, bridge)
  }

  docUnloaded(doc: string): void {
    const bridge = this.bridges.get(doc)
    if (bridge === undefined) return
    this.bridges.delete(doc)
    bridge.awareness.off('update', bridge.onUpdate)
    bridge.subscription?.unsubscribe()
  }

  close(): void {
    for (const doc of [...this.bridges.keys()]) this.docUnloaded(doc)
  }

  private subscribe(doc: string, bridge: Bridge): void {
    const nc = this.nc
    if (nc === undefined || nc.isClosed()) return
    bridge.subscription = nc.subscribe(this.subjects.awareness(doc), {
      callback: (err, msg) => {
        if (err !== null) return
        try {
          applyAwarenessUpdate(bridge.awareness, msg.data, NATS_AWARENESS_ORIGIN)
          this.metrics.awareness.received.inc()
        } catch (e) {
          // Another relay's bad bytes: drop them, keep the subscription.
          this.reportError(e, `applying presence of ${doc} from NATS`)
        }
      },
    })
  }
}
