/** What a link (link.ts) receives while its handshake runs: handed to the handshake, or held. */
import { ConvergeError } from './errors.js'
import type { Message } from './messages.js'

/** Messages held by a handshake in progress. */
export interface Inbox {
  waiter: ((m: Message) => void) | undefined
  held: Message[]
  helloSent: boolean
}

export const newInbox = (): Inbox => ({ waiter: undefined, held: [], helloSent: false })

/** The channel the handshake (handshake.ts) talks over; `send` is called only while `live()`. */
export const inboxChannel = (
  inbox: Inbox,
  live: () => boolean,
  send: (m: Message) => void,
  refused: (err: ConvergeError) => void,
) => ({
  send: (m: Message) => {
    if (!live()) return
    if (m.type === 'hello') inbox.helloSent = true
    send(m)
  },
  next: () =>
    new Promise<Message>((resolve) => {
      const held = inbox.held.shift()
      if (held !== undefined) resolve(held)
      else inbox.waiter = resolve
    }),
  refused,
})

/** `m` arrived during the handshake: the handshake takes it, or it is held; throws if it breaks the protocol. */
export const receiveDuringHandshake = (inbox: Inbox, m: Message, initiator: boolean, maxBacklog: number): void => {
  const waiter = inbox.waiter
  if (waiter !== undefined) {
    inbox.waiter = undefined
    waiter(m)
    return
  }
  // Past our hello, the remote's answer is in and the link opens in a moment: hold
  // what follows it. Anything else before the handshake settles breaks the protocol.
  if (initiator && inbox.helloSent && inbox.held.length < maxBacklog) {
    inbox.held.push(m)
    return
  }
  throw new ConvergeError(
    'CONVERGE_MALFORMED_MESSAGE',
    initiator ? 'message before our hello' : 'message before hello was accepted',
  )
}
