import type { Transport, TransportHandler, TransportState } from '@converge/core'

/** What the browser reports about connectivity: `navigator.onLine` and the window's online/offline events. */
export interface NetworkStatus {
  readonly onLine: boolean
  addEventListener(type: 'online' | 'offline', listener: () => void): void
  removeEventListener(type: 'online' | 'offline', listener: () => void): void
}

/** Close code reported when the browser goes offline: what a dropped network gives a WebSocket. */
export const OFFLINE_CLOSE_CODE = 1006

/**
 * A Transport that follows the browser's connectivity. While the browser is offline it
 * does not dial: it stays 'connecting' until the 'online' event, then dials at once (no
 * backoff wait). When the browser goes offline it closes the connection right away,
 * because a browser keeps a socket it believes alive (Chromium's offline mode does) and
 * a heartbeat would notice only after its timeout.
 */
export class OnlineTransport implements Transport {
  state: TransportState = 'connecting'
  readonly description: string
  private readonly dial: () => Transport
  private readonly network: NetworkStatus
  private inner: Transport | undefined
  private handler: TransportHandler | undefined

  constructor(dial: () => Transport, network: NetworkStatus, description = 'websocket') {
    this.dial = dial
    this.network = network
    this.description = description
  }

  get bufferedAmount(): number | undefined {
    return this.inner?.bufferedAmount
  }

  attach(handler: TransportHandler): void {
    this.handler = handler
    this.network.addEventListener('online', this.onOnline)
    this.network.addEventListener('offline', this.onOffline)
    if (this.network.onLine) this.connect()
  }

  send(data: Uint8Array): void {
    if (this.state === 'open') this.inner?.send(data)
  }

  close(code = 1000, reason = ''): void {
    if (this.state === 'closed') return
    if (this.inner !== undefined && this.inner.state !== 'closed') this.inner.close(code, reason)
    this.finish(code, reason)
  }

  private readonly onOnline = () => this.connect()

  private readonly onOffline = () => this.close(OFFLINE_CLOSE_CODE, 'the browser went offline')

  private connect(): void {
    if (this.inner !== undefined || this.state === 'closed') return
    let inner: Transport
    try {
      inner = this.dial()
    } catch (err) {
      this.finish(OFFLINE_CLOSE_CODE, `dialing failed: ${(err as Error)?.message ?? err}`)
      return
    }
    this.inner = inner
    inner.attach({
      onOpen: () => {
        if (this.state !== 'connecting') return
        this.state = 'open'
        this.handler?.onOpen()
      },
      onMessage: (data) => {
        if (this.state === 'open') this.handler?.onMessage(data)
      },
      onClose: (code, reason) => this.finish(code, reason),
    })
  }

  private finish(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.network.removeEventListener('online', this.onOnline)
    this.network.removeEventListener('offline', this.onOffline)
    this.handler?.onClose(code, reason)
  }
}

/** The browser's connectivity, or undefined where there is no `navigator.onLine` (Node, workers without events). */
export const browserNetwork = (): NetworkStatus | undefined => {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator
  const target = globalThis as { addEventListener?: unknown; removeEventListener?: unknown }
  if (typeof nav?.onLine !== 'boolean' || typeof target.addEventListener !== 'function') return undefined
  return {
    get onLine() {
      return nav.onLine !== false
    },
    addEventListener: (type, listener) => globalThis.addEventListener(type, listener),
    removeEventListener: (type, listener) => globalThis.removeEventListener(type, listener),
  }
}
