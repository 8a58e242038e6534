/**
 * Encode once, send many, down to the WebSocket frame. A frame that goes alike to many
 * sockets (a document's update or presence, core's broadcast.ts) is one Uint8Array; here it
 * gets its WebSocket header once, in one buffer with the payload, and that buffer is written
 * to every server socket as it is. `ws.send` would build the header and its options per
 * socket and write header and payload as two buffers (cork, writev, uncork).
 *
 * Node-only (server side). It writes to `ws` internals (ws 8): the socket's `_socket` and
 * its sender's `_state`/`_queue`, only while the sender is idle so that frames keep their
 * order; otherwise, and for payloads over PREPARED_FRAME_MAX_BYTES, it calls `ws.send`.
 * test/hot-path/ws-prepared-frames.test.ts fails if those fields move.
 */
import { WeakCache } from '@converge/core'
import type { WebSocketLike } from './websocket-transport.js'

/** Payloads up to this size are framed once and shared; larger ones go through `ws.send` (no copy). */
export const PREPARED_FRAME_MAX_BYTES = 64 * 1024

/** What of a `ws` WebSocket (ws 8) a prepared frame needs. */
interface WsInternals {
  _socket?: { write(data: Uint8Array): boolean }
  _sender?: { _state?: number; _queue?: unknown[]; _firstFragment?: boolean }
}

/** ws's sender state when nothing is being compressed or read from a Blob. */
const SENDER_IDLE = 0

/**
 * A final, unmasked binary frame of `payload` (RFC 6455 §5.2), header and payload in one
 * buffer. A Node Buffer: a socket's write turns any other Uint8Array into a new Buffer view,
 * one object per socket and frame, where this one goes to every socket as it is.
 */
export const binaryFrame = (payload: Uint8Array): Buffer => {
  const n = payload.length
  const header = n < 126 ? 2 : n < 0x10000 ? 4 : 10
  const frame = Buffer.allocUnsafeSlow(header + n)
  frame[0] = 0x82 // FIN, binary
  if (n < 126) frame[1] = n
  else if (n < 0x10000) {
    frame[1] = 126
    frame[2] = n >>> 8
    frame[3] = n & 0xff
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(n), 2)
  }
  frame.set(payload, header)
  return frame
}

/** The framed bytes of each payload sent lately, alive as long as the payload is (a small table: see WeakCache). */
const framed = new WeakCache<Uint8Array, Buffer>()

/** True when `socket` is a `ws` socket whose frames can be written pre-framed now. */
export const canSendPrepared = (socket: WebSocketLike): boolean => {
  const { _socket, _sender } = socket as unknown as WsInternals
  return (
    _socket !== undefined &&
    _sender !== undefined &&
    _sender._state === SENDER_IDLE &&
    _sender._firstFragment === true &&
    _sender._queue?.length === 0
  )
}

/** Sends `data` as one binary frame: pre-framed and shared where it can, else with `socket.send`. */
export const sendPrepared = (socket: WebSocketLike, data: Uint8Array): void => {
  if (data.length > PREPARED_FRAME_MAX_BYTES || !canSendPrepared(socket)) {
    socket.send(data)
    return
  }
  let frame = framed.get(data)
  if (frame === undefined) {
    frame = binaryFrame(data)
    framed.set(data, frame)
  }
  ;(socket as unknown as Required<WsInternals>)._socket.write(frame)
}
