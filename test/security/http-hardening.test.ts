import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/relay-process.js'
import { httpUrl, startRelay } from './harness.js'

// Item 13: what the relay's HTTP responses let a browser do with them.

const site = async () => {
  const root = join(await tempDir('site'), 'dist')
  await mkdir(join(root, 'assets'), { recursive: true })
  await writeFile(join(root, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>')
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)\n//# sourceMappingURL=app.js.map')
  await writeFile(join(root, 'assets', 'app.js.map'), '{"sources":["../../secret/src/app.ts"]}')
  return root
}

const ADMIN = 'admin-token-for-http-hardening'

describe('HTTP hardening', () => {
  it('every response forbids sniffing, framing and referrers; app pages carry a CSP the demo works with', async () => {
    const relay = await startRelay({ static: await site(), adminToken: ADMIN })
    const base = httpUrl(relay)
    for (const path of ['/', '/assets/app.js', '/healthz', '/metrics', '/api/docs', '/nothing.txt']) {
      const res = await fetch(`${base}${path}`)
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer')
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'")
    }
    const csp = (await fetch(`${base}/`)).headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("worker-src 'self'")
    expect(csp).toContain('connect-src')
    expect(csp).not.toContain('unsafe-eval')
    expect((await fetch(`${base}/api/docs`)).headers.get('content-security-policy')).toContain("default-src 'none'")
  })

  it('source maps are not served', async () => {
    const relay = await startRelay({ static: await site() })
    const res = await fetch(`${httpUrl(relay)}/assets/app.js.map`)
    expect(res.status).toBe(404)
    expect(await res.text()).not.toContain('secret/src')
  })

  it('/metrics with --metrics-token answers 401 without the token', async () => {
    const relay = await startRelay({ metricsToken: 'metrics-reader-token' })
    const url = `${httpUrl(relay)}/metrics`
    expect((await fetch(url)).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    const ok = await fetch(url, { headers: { authorization: 'Bearer metrics-reader-token' } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('converge_connections')
  })

  it('/metrics with --metrics-listen is served only on that separate address: the public port answers 404', async () => {
    const relay = await startRelay({ metricsListen: '127.0.0.1:0', metricsToken: 'metrics-reader-token' })
    expect((await fetch(`${httpUrl(relay)}/metrics`)).status).toBe(404)
    expect(
      (await fetch(`${httpUrl(relay)}/metrics`, { headers: { authorization: 'Bearer metrics-reader-token' } })).status,
    ).toBe(404)
    const url = relay.metricsUrl as string
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    expect(new URL(url).port).not.toBe(String(relay.port))
    // The token still guards it there.
    expect((await fetch(url)).status).toBe(401)
    const ok = await fetch(url, { headers: { authorization: 'Bearer metrics-reader-token' } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('converge_connections')
    // Nothing else is served on the metrics address.
    expect((await fetch(url.replace('/metrics', '/healthz'))).status).toBe(404)
    await relay.stop()
    await expect(fetch(url)).rejects.toThrow()
  })

  it('an admin API body over maxAdminBodyBytes is refused with 413 and not applied', async () => {
    const relay = await startRelay({ adminToken: ADMIN, maxAdminBodyBytes: 1024 })
    const res = await fetch(`${httpUrl(relay)}/api/docs/big/update`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
      body: new Uint8Array(4096),
    })
    expect(res.status).toBe(413)
    expect(await relay.store.list()).toEqual([])
  })
})
