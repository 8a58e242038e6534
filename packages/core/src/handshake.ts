/**
 * The hello exchange of converge.v1 as one async step: it yields who the remote is, what
 * role it plays, and what it may do. A connection without a handshake (a BroadcastChannel,
 * a y-websocket socket) takes its identity from the transport and its access from upgrade.
 */
import { type Access, fullAccess } from './access.js'
import { ConvergeError } from './errors.js'
import type { HelloMessage, Message, PeerRole } from './messages.js'
import { PROTOCOL_VERSION } from './mux-codec.js'

/** What the handshake settles about the remote side. */
export interface LinkIdentity {
  /** The remote's peer id (from its hello), or a description of the transport. */
  readonly remoteId: string
  readonly role: PeerRole
  /** What the remote may read and write here (decided by `authorize`; full when dialing). */
  readonly access: Access
}

/** The two directions of a connection during the handshake. */
export interface HandshakeChannel {
  send(m: Message): void
  /** The next decoded message. A message that arrives while nobody waits breaks the protocol. */
  next(): Promise<Message>
  /** The remote refused us with an error frame; its close (with the matching code) follows. */
  refused(err: ConvergeError): void
}

export interface HandshakeParams {
  readonly initiator: boolean
  readonly peerId: string
  readonly role: PeerRole
  /** A token sent in hello, or a function that returns one per connection (dialing). */
  readonly token?: string | (() => string | Promise<string>)
  /** Decides what the remote may do from its hello (accepting). */
  readonly authorize?: (hello: HelloMessage) => Access | Promise<Access>
}

/** Our hello: who we are, with `token`. */
export const helloOf = (params: Pick<HandshakeParams, 'peerId' | 'role'>, token: string): HelloMessage => ({
  type: 'hello',
  version: PROTOCOL_VERSION,
  peerId: params.peerId,
  role: params.role,
  token,
})

const expectHello = (m: Message): HelloMessage => {
  if (m.type !== 'hello') throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', `${m.type} before hello`)
  if (m.version !== PROTOCOL_VERSION) {
    throw new ConvergeError('CONVERGE_UNSUPPORTED_VERSION', `protocol version ${m.version} is not supported`)
  }
  return m
}

/** The token to send: the string, or what the token function returns now. */
export const tokenOf = async (token: HandshakeParams['token']): Promise<string> => {
  if (typeof token !== 'function') return token ?? ''
  try {
    return await token()
  } catch (err) {
    throw new ConvergeError('CONVERGE_AUTH_DENIED', 'token provider failed', { cause: err })
  }
}

/** Runs hello in both directions; rejects with a coded error that picks the close code. */
export const handshake = async (channel: HandshakeChannel, params: HandshakeParams): Promise<LinkIdentity> => {
  if (params.initiator) {
    channel.send(helloOf(params, await tokenOf(params.token)))
    for (;;) {
      const m = await channel.next()
      if (m.type === 'error') {
        channel.refused(new ConvergeError('CONVERGE_AUTH_DENIED', `${m.code}: ${m.message}`))
        continue
      }
      const theirs = expectHello(m)
      return { remoteId: theirs.peerId, role: theirs.role, access: fullAccess }
    }
  }
  // Accepting: nothing else may arrive until the authorization is decided (channel.next).
  const theirs = expectHello(await channel.next())
  let access: Access
  try {
    access = params.authorize === undefined ? fullAccess : await params.authorize(theirs)
  } catch (err) {
    throw err instanceof ConvergeError
      ? err
      : new ConvergeError('CONVERGE_AUTH_DENIED', 'authorization failed', { cause: err })
  }
  channel.send(helloOf(params, ''))
  return { remoteId: theirs.peerId, role: theirs.role, access }
}

/**
 * A later hello from a remote already accepted carries a refreshed token (the dialer's
 * `refreshToken`). It must name the same peer and role; its authorization replaces the
 * access. Rejects with a coded error that picks the close code otherwise.
 */
export const reauthorize = async (
  theirs: HelloMessage,
  current: LinkIdentity,
  authorize: NonNullable<HandshakeParams['authorize']>,
): Promise<LinkIdentity> => {
  if (theirs.peerId !== current.remoteId || theirs.role !== current.role) {
    throw new ConvergeError('CONVERGE_MALFORMED_MESSAGE', 'a later hello may only refresh the token')
  }
  try {
    return { ...current, access: await authorize(theirs) }
  } catch (err) {
    throw err instanceof ConvergeError
      ? err
      : new ConvergeError('CONVERGE_AUTH_DENIED', 'authorization failed', { cause: err })
  }
}
