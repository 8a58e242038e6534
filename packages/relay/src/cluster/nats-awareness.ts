import type { AwarenessChange, DocPresence, Replica } from '@converge/core'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { NatsMetrics } from './nats-metrics.js'
import type { ClusterSubjects } from './nats-subjects.js'

/** Origin of awareness changes that came from other relays: they are not sent back. */
export const NATS_AWARENESS_ORIGIN = Symbol('converge:nats-awareness')

interface Bridge {
  presence: DocPresence
  subscription: Subscription | undefined
  /** Removes the bridge's listener from the presence. */
  stop: () => void
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
    let presence: DocPresence
    try {
      presence = this.replica.presence(doc)
    } catch {
      return
    }
    const onUpdate = (change: AwarenessChange, origin: unknown) => {
      if (origin === NATS_AWARENESS_ORIGIN || this.nc === undefined || this.nc.isClosed()) return
      const clients = [...change.added, ...change.updated, ...change.removed]
      try {
        this.nc.publish(this.subjects.awareness(doc), presence.encode(clients))
        this.metrics.awareness.sent.inc()
      } catch (err) {
        this.reportError(err, `sending presence of ${doc}`)
      }
    }
    const bridge: Bridge = { presence, subscription: undefined, stop: presence.onUpdate(onUpdate) }
    this.bridges.set(doc, bridge)
    this.subscribe(doc, bridge)
  }

  docUnloaded(doc: string): void {
    const bridge = this.bridges.get(doc)
    if (bridge === undefined) return
    this.bridges.delete(doc)
    bridge.stop()
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
          bridge.presence.apply(msg.data, NATS_AWARENESS_ORIGIN)
          this.metrics.awareness.received.inc()
        } catch (e) {
          // Another relay's bad bytes: drop them, keep the subscription.
          this.reportError(e, `applying presence of ${doc} from NATS`)
        }
      },
    })
  }
}
