/**
 * Drives one raw WebSocket against a relay with a planned list of frames, and reports
 * how the relay answered: the close code it chose, or that it kept answering.
 */
import {
  decodeMuxFrame,
  decodeYWebsocketFrame,
  EMPTY_STATE_VECTOR,
  encodeMuxFrame,
  encodeYWebsocketFrame,
  type Message,
  MUX_PROTOCOL,
} from '@converge/core'
import WebSocket from 'ws'
import type { FuzzFraming } from './fuzz-frames.js'

export interface PlannedFrame {
  /** A string is sent as a text frame. */
  data: Uint8Array | string
  /** Send the bytes as a text frame (they need not be UTF-8). */
  asText?: boolean
  /** What the frame is and how it was mutated, for reports. */
  label: string
}

export interface SocketPlan {
  framing: FuzzFraming
  /** The document of a y-websocket socket (its URL path). */
  doc: string
  /** converge.v1: the first frame, a hello (possibly mutated). */
  hello?: PlannedFrame
  /** Frames in chunks; after each chunk a probe checks the relay still answers in order. */
  chunks: PlannedFrame[][]
}

export interface SocketOutcome {
  /** Frames written while the socket was open (the relay may not have read the last ones). */
  sent: number
  /** The close code the relay chose, when it closed the socket. */
  relayClose?: { code: number; reason: string }
  /** The error frame the relay sent before closing (converge.v1), if any. */
  relayError?: string
  /** Labels of the frames of the chunk in flight when the relay closed (the likely culprit). */
  culprit?: string[]
  /** The relay neither answered a probe nor closed the socket in time. */
  stalled?: string
  /** The connection could not be made at all. */
  connectError?: string
  /** Frames from the relay that do not decode (the relay must only send valid frames). */
  undecodable: number
}

export interface FuzzSocketOptions {
  /** How long the relay has to answer a probe or close the socket, in ms. Default 20_000. */
  answerTimeout?: number
}

const utf8 = new TextEncoder()
const bytesOf = (data: Uint8Array | string) => (typeof data === 'string' ? utf8.encode(data) : data)

/** What the relay will read a frame as: the same decoders it runs, or undefined for bytes it refuses. */
const readAs = (framing: FuzzFraming, doc: string, data: Uint8Array | string): Message | undefined => {
  try {
    return framing === 'converge.v1' ? decodeMuxFrame(bytesOf(data)) : decodeYWebsocketFrame(bytesOf(data), doc)
  } catch {
    return undefined
  }
}

export const runFuzzSocket = async (
  relayUrl: string,
  plan: SocketPlan,
  options: FuzzSocketOptions = {},
): Promise<SocketOutcome> => {
  const answerTimeout = options.answerTimeout ?? 20_000
  const mux = plan.framing === 'converge.v1'
  const url = mux ? relayUrl : `${relayUrl}/${encodeURIComponent(plan.doc)}`
  const ws = new WebSocket(url, mux ? [MUX_PROTOCOL] : [])
  const outcome: SocketOutcome = { sent: 0, undecodable: 0 }
  let open = false
  let closed = false
  /** This side started the close, so the close code is not the relay's verdict. */
  let closing = false
  let relayHello = false
  let pongs = 0
  let step2s = 0
  /** The relay's state vector from its step 1: probes send it, so the answer is small. */
  let relayStateVector: Uint8Array = EMPTY_STATE_VECTOR
  // Re-checked on every event from the socket: the condition the driver waits for.
  let wake: (() => void) | undefined
  const changed = () => wake?.()
  const until = (what: string, ready: () => boolean): Promise<boolean> =>
    new Promise((resolve) => {
      const check = () => {
        if (!ready() && !closed) return
        clearTimeout(timer)
        wake = undefined
        resolve(true)
      }
      const timer = setTimeout(() => {
        wake = undefined
        outcome.stalled = what
        resolve(false)
      }, answerTimeout)
      wake = check
      check()
    })

  ws.on('open', () => {
    open = true
    changed()
  })
  ws.on('error', (err) => {
    if (!open) outcome.connectError = err.message
  })
  ws.on('close', (code, reason) => {
    closed = true
    if (open && outcome.relayClose === undefined && !closing) {
      outcome.relayClose = { code, reason: reason.toString() }
    }
    changed()
  })
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = isBinary ? readAs(plan.framing, plan.doc, new Uint8Array(data)) : undefined
    if (m === undefined) outcome.undecodable++
    else if (m.type === 'hello') relayHello = true
    else if (m.type === 'pong') pongs++
    else if (m.type === 'sync-step2') step2s++
    else if (m.type === 'sync-step1') relayStateVector = m.stateVector
    else if (m.type === 'error') outcome.relayError = `${m.code}: ${m.message}`
    changed()
  })

  await until('the socket to open', () => open)
  if (!open) {
    ws.terminate()
    return outcome
  }

  /** Closes from this side (1000) unless the relay did, and waits for the close. */
  const finish = async (): Promise<SocketOutcome> => {
    if (closed) return outcome
    closing = true
    ws.close(1000)
    const stalled = outcome.stalled
    if (!(await until('the close handshake', () => closed))) ws.terminate()
    // A slow close handshake is not the relay stalling on a frame.
    outcome.stalled = stalled
    return outcome
  }

  const send = (data: Uint8Array | string, asText = false) => {
    if (ws.readyState !== WebSocket.OPEN) return false
    ws.send(data, { binary: typeof data !== 'string' && !asText })
    outcome.sent++
    return true
  }

  if (mux) {
    if (plan.hello !== undefined) send(plan.hello.data, plan.hello.asText)
    if (!(await until('the relay hello', () => relayHello)) || closed) {
      if (closed && plan.hello !== undefined) outcome.culprit = [plan.hello.label]
      return finish()
    }
  }

  let expectedPongs = 0
  let expectedStep2s = 0
  for (const chunk of plan.chunks) {
    for (const frame of chunk) {
      if (!send(frame.data, frame.asText)) break
      // Count the answers the relay owes for what it will read as pings (converge.v1) or
      // step 1s (y-websocket), so the probe below waits for all of them.
      const m = readAs(plan.framing, plan.doc, frame.data)
      if (m?.type === 'ping') expectedPongs++
      if (m?.type === 'sync-step1') expectedStep2s++
    }
    // The probe: a ping (answered synchronously, in order) or a step 1 (answered in order).
    let answered: boolean
    if (mux) {
      send(encodeMuxFrame({ type: 'ping' }))
      expectedPongs++
      answered = await until('a pong', () => pongs >= expectedPongs)
    } else {
      send(encodeYWebsocketFrame({ type: 'sync-step1', doc: plan.doc, stateVector: relayStateVector }))
      expectedStep2s++
      answered = await until('a sync step 2', () => step2s >= expectedStep2s)
    }
    if (closed || !answered) {
      outcome.culprit = chunk.map((f) => f.label)
      break
    }
  }
  return finish()
}
