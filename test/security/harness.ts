import { encodeMuxFrame, MUX_PROTOCOL } from '@converge/core'
import type { Relay } from '@converge/relay'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

/** A secret long enough for the relay (32 bytes or more). */
export const SECRET = 'security-tests-secret-0123456789abcdef'

import { after, httpUrl } from '../helpers/in-process-relay.js'

export { after, httpUrl, startRelay } from '../helpers/in-process-relay.js'

export interface Outcome {
  /** 101 when upgraded, else the HTTP status of the refusal (0: the connection was dropped). */
  status: number
  /** The close code when it was upgraded, once closed. */
  close?: number
  /** The frames received before the close. */
  frames?: Uint8Array[]
}

/**
 * Opens a WebSocket with these headers (a browser's Origin, say). With `hello`, speaks
 * converge.v1 and sends it; else it is a y-websocket connection. Resolves with the refusal
 * status, or 101 and, when `waitClose`, the close code.
 */
export const connect = (
  url: string,
  options: { headers?: Record<string, string>; hello?: Parameters<typeof encodeMuxFrame>[0]; waitClose?: boolean } = {},
) =>
  new Promise<Outcome>((resolve) => {
    const ws = new WebSocket(url, options.hello ? [MUX_PROTOCOL] : [], { headers: options.headers })
    ws.on('open', () => {
      if (options.hello) ws.send(encodeMuxFrame(options.hello))
      if (!options.waitClose) {
        // Accepted: give a refusing hello a moment to be answered with a close.
        setTimeout(() => ws.close(), 200)
      }
    })
    let opened = false
    const frames: Uint8Array[] = []
    ws.on('upgrade', () => {
      opened = true
    })
    ws.on('message', (data) => frames.push(new Uint8Array(data as Buffer)))
    // Dropped before any HTTP answer (a per-address cap): status 0.
    ws.on('close', (code) => resolve(opened ? { status: 101, close: code, frames } : { status: 0 }))
    ws.on('unexpected-response', (_req, res) => {
      if (!opened) resolve({ status: res.statusCode ?? 0 })
      ws.terminate()
    })
    ws.on('error', () => undefined)
  })

/**
 * A y-websocket socket refused for its token: upgraded, then closed with 4401 before the relay
 * read or sent a single frame (a stock client stops on 4401; it would retry an HTTP 401 for ever).
 */
export const unauthorizedAtOnce = { status: 101, close: 4401, frames: 0 }

/** The parts of an outcome that `unauthorizedAtOnce` states. */
export const refusal = (o: Outcome) => ({ status: o.status, close: o.close, frames: o.frames?.length ?? 0 })

/** A converge.v1 hello. */
export const hello = (token = '', role: 'client' | 'relay' = 'client') =>
  ({ type: 'hello', version: 1, peerId: `p-${Math.random().toString(36).slice(2)}`, role, token }) as const

/** A stock y-websocket 3.x client (with `ws` as its WebSocket), destroyed after the test. */
export const stockClient = (
  url: string,
  room: string,
  options: { params?: Record<string, string>; origin?: string } = {},
) => {
  const doc = new Y.Doc()
  const origin = options.origin
  // A WebSocket class that sends a browser's Origin header, as a page would.
  const Socket =
    origin === undefined
      ? WebSocket
      : class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers: { origin } })
          }
        }
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: Socket as never,
    maxBackoffTime: 300,
    // In one process, clients of a room would otherwise sync over BroadcastChannel, past the relay.
    disableBc: true,
    params: options.params,
  })
  after(() => {
    provider.destroy()
    doc.destroy()
  })
  return { doc, provider }
}

/** Reads a metric's value from the relay's /metrics (summed over label sets that match `labels`). */
export const metric = async (relay: Relay, name: string, labels = '', headers: Record<string, string> = {}) => {
  const text = await (await fetch(`${httpUrl(relay)}/metrics`, { headers })).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue
    if (labels !== '' && !rest.includes(labels)) continue
    sum += Number(line.split(' ').pop())
  }
  return sum
}
