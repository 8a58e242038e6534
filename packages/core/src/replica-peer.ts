import { fullAccess } from './access.js'
import type { DocumentRouter } from './document-router.js'
import { frameStrategy } from './framing.js'
import type { LinkIdentity } from './handshake.js'
import { Link } from './link.js'
import type { PeerRole } from './messages.js'
import { Peer } from './peer.js'
import { peerLimitsOf } from './peer-limits.js'
import type { AcceptOptions, PeerOptions } from './peer-options.js'
import type { ReplicaObserver } from './replica-observer.js'
import type { RolePolicy } from './role-policy.js'
import type { Connector, Transport } from './transport.js'

// How a replica turns a transport into a Peer: a Link with the replica's identity and
// limits, routed by its DocumentRouter, and counted among its peers while not closed.

/** The options of Replica.connect/accept, with the side of the connection settled. */
export type PeerLinkOptions = PeerOptions & AcceptOptions & { initiator: boolean; upstream: boolean }

/** What openPeer needs of its replica. */
export interface PeerHost {
  readonly peerId: string
  readonly role: PeerRole
  readonly observer: ReplicaObserver
  readonly policy: RolePolicy
  readonly router: DocumentRouter
  /** The replica's open peers: the new one is in it until it closes. */
  readonly peers: Set<Peer>
  /** Links sharing one flow-control budget (the replica). */
  readonly flowScope: object
}

/** Whether a remote is exempt from the pacing: one function per policy, shared by its links. */
const exemptions = new WeakMap<RolePolicy, (remote: LinkIdentity) => boolean>()
const exemptionOf = (policy: RolePolicy): ((remote: LinkIdentity) => boolean) => {
  let exempt = exemptions.get(policy)
  if (exempt === undefined) {
    exempt = (remote) => policy.isMesh(remote.role)
    exemptions.set(policy, exempt)
  }
  return exempt
}

/** Starts a Link over `transport` and returns its Peer. */
export const openPeer = (transport: Transport | Connector, options: PeerLinkOptions, host: PeerHost): Peer => {
  const framing = frameStrategy(options.framing)
  const limits = peerLimitsOf(options)
  const { policy, router, peers } = host
  const link = new Link(
    {
      initiator: options.initiator,
      upstream: options.upstream,
      handshake: framing.control && (options.handshake ?? true),
      framing,
      peerId: host.peerId,
      role: host.role,
      token: options.token,
      authorize: options.authorize,
      access: options.access ?? fullAccess,
      limits,
      observer: host.observer,
      exemptFromRateLimit: exemptionOf(policy),
      flowScope: host.flowScope,
    },
    transport,
  )
  const peer = new Peer(link, router)
  router.add(link, (docs) => peer.emit('inventory-synced', [docs, peer]))
  peers.add(peer)
  link.on('status', (status) => {
    if (status === 'closed') peers.delete(peer)
  })
  link.start()
  if (link.status === 'closed') peers.delete(peer)
  return peer
}
