import {
  decodeMuxFrame,
  decodeYWebsocketFrame,
  encodeMuxFrame,
  encodeYWebsocketFrame,
  type Message,
  MUX_PROTOCOL,
  PROTOCOL_VERSION,
  type YMessage,
} from '@converge/core'
import WebSocket from 'ws'
import { waitFor } from './wait.js'

/**
 * A hand-driven socket to a relay, on either framing: sends exactly the frames a test
 * crafts and records every decoded frame the relay sends and how it closed.
 */
export class RawPeer {
  readonly ws: WebSocket
  readonly received: Message[] = []
  closed: { code: number; reason: string } | undefined
  private readonly doc: string | undefined

  private constructor(ws: WebSocket, doc: string | undefined) {
    this.ws = ws
    this.doc = doc
    ws.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data)
      this.received.push(doc === undefined ? decodeMuxFrame(bytes) : decodeYWebsocketFrame(bytes, doc))
    })
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
    })
    ws.on('error', () => undefined)
  }

  /** A converge.v1 socket past its handshake (hello both ways). */
  static async mux(url: string, options: { token?: string; role?: 'client' | 'relay' } = {}): Promise<RawPeer> {
    const peer = new RawPeer(new WebSocket(url, [MUX_PROTOCOL]), undefined)
    await peer.opened()
    peer.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      peerId: `raw-${Math.random().toString(16).slice(2)}`,
      role: options.role ?? 'client',
      token: options.token ?? '',
    })
    await peer.until((m) => m.type === 'hello', 'the relay hello')
    return peer
  }

  /** A y-websocket-framed socket on `doc` (as a stock client opens it). */
  static async yws(url: string, doc: string, token?: string): Promise<RawPeer> {
    const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`
    const peer = new RawPeer(new WebSocket(`${url}/${encodeURIComponent(doc)}${query}`), doc)
    await peer.opened()
    return peer
  }

  private opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('close', (code) => reject(new Error(`closed with ${code} before opening`)))
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)))
    })
  }

  send(m: Message): void {
    this.sendBytes(this.doc === undefined ? encodeMuxFrame(m) : encodeYWebsocketFrame(m as YMessage))
  }

  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true })
  }

  /** Resolves with the first received frame (from `from` on) that `match` accepts. */
  async until(match: (m: Message) => boolean, what: string, timeout = 10_000, from = 0): Promise<Message> {
    const deadline = Date.now() + timeout
    for (;;) {
      const found = this.received.slice(from).find(match)
      if (found !== undefined) return found
      if (this.closed !== undefined)
        throw new Error(`closed with ${this.closed.code} ${this.closed.reason} before ${what}`)
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }

  /** Resolves with the close code and reason once the relay closed the socket. */
  async whenClosed(timeout = 10_000): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.closed !== undefined, { what: 'the relay to close the socket', timeout, interval: 2 })
    return this.closed as { code: number; reason: string }
  }

  close(): void {
    this.ws.close()
  }
}
