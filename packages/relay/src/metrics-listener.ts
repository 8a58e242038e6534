import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sendJson } from './admin-api.js'
import { splitListenAddress } from './option-parsers.js'
import type { RelayMetrics } from './relay-metrics.js'
import { serveMetrics } from './relay-routes.js'
import { setSecurityHeaders } from './security-headers.js'

/**
 * /metrics on an address of its own (`--metrics-listen`), e.g. on loopback or a private
 * interface only a Prometheus reaches, so the public port serves no metrics at all. It
 * answers GET /metrics (with the metrics token, when one is set) and 404 to the rest.
 */
export class MetricsListener {
  private readonly server: Server
  private readonly address: string

  constructor(address: string, metricsToken: string | undefined, metrics: RelayMetrics) {
    this.address = address
    const relay = { metrics, metricsToken }
    this.server = createServer((req, res) => {
      setSecurityHeaders(res)
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/metrics' || req.method !== 'GET') {
        sendJson(res, 404, { error: 'not found (this address serves only /metrics)' })
        return
      }
      serveMetrics(relay, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('internal error\n')
      })
    })
  }

  /** Listens on its address. */
  async listen(): Promise<void> {
    const { host, port } = splitListenAddress(this.address)
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  /** http://host:port/metrics, with the port actually bound. */
  get url(): string {
    const { address, port } = this.server.address() as AddressInfo
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve()
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}
