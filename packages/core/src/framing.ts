/**
 * How messages are laid out on a connection, as one strategy object per framing, so the
 * link never branches on which one it speaks.
 */
import type { Message, YMessage } from './messages.js'
import { decodeMuxFrame, encodeMuxFrame } from './mux-codec.js'
import { decodeYWebsocketFrame, encodeYWebsocketFrame } from './y-websocket-codec.js'

/** How frames are laid out on the connection (the option users pass). */
export type Framing = 'converge.v1' | { yWebsocketDoc: string }

/** The framings by name: frames of one message are alike within a framing (see broadcast.ts). */
export type FramingName = 'converge.v1' | 'y-websocket'

export interface FrameStrategy {
  /** Which framing: two strategies of one name encode a message to the same bytes. */
  readonly name: FramingName
  /**
   * The framing carries converge.v1's control messages (hello, subscribe, saved, error,
   * ping, inventory, sync-step1-deletes): many documents on one connection.
   */
  readonly control: boolean
  /** The one document a y-websocket socket is, or undefined when frames name their document. */
  readonly soleDoc: string | undefined
  /** The frame of `m`, or undefined when this framing cannot carry it (dropped). */
  encode(m: Message): Uint8Array | undefined
  /** Decodes one frame; throws a CONVERGE_MALFORMED_MESSAGE error on bad bytes. */
  decode(frame: Uint8Array): Message
}

const convergeV1: FrameStrategy = {
  name: 'converge.v1',
  control: true,
  soleDoc: undefined,
  encode: encodeMuxFrame,
  decode: decodeMuxFrame,
}

/** One per y-websocket connection: an object of a class, its methods shared (no closures per connection). */
class YWebsocketFraming implements FrameStrategy {
  readonly soleDoc: string

  constructor(doc: string) {
    this.soleDoc = doc
  }

  get name(): FramingName {
    return 'y-websocket'
  }

  get control(): boolean {
    return false
  }

  encode(m: Message): Uint8Array | undefined {
    return isYMessage(m) ? encodeYWebsocketFrame(m) : undefined
  }

  decode(frame: Uint8Array): Message {
    return decodeYWebsocketFrame(frame, this.soleDoc)
  }
}

export const frameStrategy = (framing: Framing = 'converge.v1'): FrameStrategy =>
  framing === 'converge.v1' ? convergeV1 : new YWebsocketFraming(framing.yWebsocketDoc)

const yTypes: ReadonlySet<Message['type']> = new Set([
  'sync-step1',
  'sync-step2',
  'update',
  'awareness',
  'query-awareness',
  'auth-denied',
])

const isYMessage = (m: Message): m is YMessage => yTypes.has(m.type)
