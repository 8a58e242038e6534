/**
 * Parses one direction of a WebSocket connection as it crosses the wire: the HTTP upgrade
 * (request or response) first, then frames (RFC 6455 §5.2), unmasking client frames. For
 * counting what each message costs on the wire; it trusts its input (our own relays).
 */

export type WireEvent =
  | { kind: 'handshake'; bytes: number }
  | {
      kind: 'frame'
      /** 1 text, 2 binary, 8 close, 9 ping, 10 pong, 0 continuation (our relays do not fragment). */
      opcode: number
      /** Frame header bytes (2–14). */
      headerBytes: number
      payload: Uint8Array
    }

export class WsWireParser {
  private buffer: Buffer = Buffer.alloc(0)
  private handshakeDone = false
  private readonly onEvent: (e: WireEvent) => void

  constructor(onEvent: (e: WireEvent) => void) {
    this.onEvent = onEvent
  }

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    for (;;) {
      if (!this.handshakeDone) {
        const end = this.buffer.indexOf('\r\n\r\n')
        if (end < 0) return
        this.handshakeDone = true
        this.onEvent({ kind: 'handshake', bytes: end + 4 })
        this.buffer = this.buffer.subarray(end + 4)
        continue
      }
      if (this.buffer.length < 2) return
      const b0 = this.buffer[0] as number
      const b1 = this.buffer[1] as number
      const masked = (b1 & 0x80) !== 0
      let length = b1 & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.buffer.length < 4) return
        length = this.buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.buffer.length < 10) return
        length = Number(this.buffer.readBigUInt64BE(2))
        offset = 10
      }
      const maskOffset = offset
      if (masked) offset += 4
      if (this.buffer.length < offset + length) return
      const payload = new Uint8Array(this.buffer.subarray(offset, offset + length))
      if (masked) {
        for (let i = 0; i < payload.length; i++) {
          payload[i] = (payload[i] as number) ^ (this.buffer[maskOffset + (i % 4)] as number)
        }
      }
      this.onEvent({ kind: 'frame', opcode: b0 & 0x0f, headerBytes: offset, payload })
      this.buffer = this.buffer.subarray(offset + length)
    }
  }
}
