import type { Relay } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { waitFor } from '../helpers/wait.js'
import { after, connect, startRelay } from './harness.js'

// Issue 16, edge: per-address caps and logs behind a reverse proxy (--trust-proxy).

/** A y-websocket connection with these headers, held open until the test ends; resolves when open. */
const holdOpen = (url: string, headers: Record<string, string> = {}) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => resolve(ws))
    ws.on('error', reject)
    after(() => ws.terminate())
  })

const xff = (value: string) => ({ 'x-forwarded-for': value })

/** converge_connections_capped_total{cap="connections"}, read in process. */
const capped = async (relay: Relay) =>
  (await relay.metrics.edge.capped.get()).values.find((v) => v.labels.cap === 'connections')?.value ?? 0

describe('X-Forwarded-For and the per-address caps', () => {
  it('without --trust-proxy a spoofed X-Forwarded-For does not evade the per-IP cap: the header is ignored', async () => {
    const relay = await startRelay({ maxConnectionsPerIp: 2, perIpExempt: [] })
    await holdOpen(`${relay.url}/d`, xff('10.0.0.1'))
    await holdOpen(`${relay.url}/d`, xff('10.0.0.2'))
    // A third address in the header changes nothing: all three come from 127.0.0.1.
    expect((await connect(`${relay.url}/d`, { headers: xff('10.0.0.3') })).status).toBe(0)
    expect(await capped(relay)).toBe(1)
  })

  it('behind a trusted proxy, upgrades are capped per forwarded client: one client at its cap, another still admitted', async () => {
    const seen: string[] = []
    const relay = await startRelay({
      maxConnectionsPerIp: 2,
      perIpExempt: [],
      trustProxy: ['127.0.0.1'],
      extensions: [{ onAuthenticate: ({ ip }) => void seen.push(ip) }],
    })
    await holdOpen(`${relay.url}/d`, xff('203.0.113.7'))
    await holdOpen(`${relay.url}/d`, xff('203.0.113.7'))
    // The proxy's own address is not capped: a third client connection through it is fine.
    const other = await holdOpen(`${relay.url}/d`, xff('198.51.100.9'))
    expect(other.readyState).toBe(WebSocket.OPEN)
    expect((await connect(`${relay.url}/d`, { headers: xff('203.0.113.7') })).status).toBe(0)
    expect(await capped(relay)).toBe(1)
    // Hooks (and logs) see the forwarded client, not the proxy.
    expect(seen).toEqual(['203.0.113.7', '203.0.113.7', '198.51.100.9'])
  })

  it("behind a trusted proxy, a client's own X-Forwarded-For entries do not evade the cap: only the last untrusted hop counts", async () => {
    const relay = await startRelay({
      maxConnectionsPerIp: 1,
      perIpExempt: [],
      trustProxy: ['127.0.0.1', '10.1.1.1'],
    })
    // The real client is 203.0.113.7; it wrote a fake first hop, the proxies appended the rest.
    await holdOpen(`${relay.url}/d`, xff('1.2.3.4, 203.0.113.7, 10.1.1.1'))
    expect((await connect(`${relay.url}/d`, { headers: xff('5.6.7.8, 203.0.113.7') })).status).toBe(0)
    expect((await connect(`${relay.url}/d`, { headers: xff('203.0.113.7, 10.1.1.1') })).status).toBe(0)
    expect(await capped(relay)).toBe(2)
  })

  it('a forwarded connection frees its slot when it closes', async () => {
    const relay = await startRelay({ maxConnectionsPerIp: 1, perIpExempt: [], trustProxy: ['127.0.0.1'] })
    const first = await holdOpen(`${relay.url}/d`, xff('203.0.113.7'))
    expect((await connect(`${relay.url}/d`, { headers: xff('203.0.113.7') })).status).toBe(0)
    first.close()
    await waitFor(async () => (await connect(`${relay.url}/d`, { headers: xff('203.0.113.7') })).status === 101, {
      what: 'the slot to free up',
    })
  })
})
