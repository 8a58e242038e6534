/** The states of a link (link.ts) and the status users see of each. */
import type { Inbox } from './handshake-inbox.js'
import type { Transport } from './transport.js'

/** What a connection is doing, as users see it ('connecting' includes waiting to redial). */
export type PeerStatus = 'connecting' | 'handshaking' | 'open' | 'closed'

/** The one state of a link; each kind holds what exists only in it. */
export type LinkState =
  | { kind: 'waiting' }
  | { kind: 'connecting'; transport: Transport }
  | { kind: 'handshaking'; transport: Transport; inbox: Inbox }
  | { kind: 'open'; transport: Transport }
  | { kind: 'closed' }

export const statusOf: Record<LinkState['kind'], PeerStatus> = {
  waiting: 'connecting',
  connecting: 'connecting',
  handshaking: 'handshaking',
  open: 'open',
  closed: 'closed',
}
