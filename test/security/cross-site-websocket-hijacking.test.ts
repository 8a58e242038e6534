import { signToken } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait.js'
import { connect, hello, metric, refusal, SECRET, startRelay, stockClient, unauthorizedAtOnce } from './harness.js'

// Item 1: a page on another site must not drive a relay that admits connections on ambient
// authority (no token), and DNS rebinding must not make a foreign page "same origin".

const evil = 'https://evil.example'

describe('cross-site WebSocket hijacking against an open relay on localhost', () => {
  it('a page from another site is refused with 403 on both framings, and the refusals are counted', async () => {
    const relay = await startRelay()
    const headers = { origin: evil }
    expect((await connect(`${relay.url}/notes`, { headers })).status).toBe(403)
    expect((await connect(relay.url, { headers, hello: hello() })).status).toBe(403)
    expect(await metric(relay, 'converge_upgrades_refused_total', 'status="403"')).toBe(2)
    expect(await metric(relay, 'converge_upgrades_cross_origin_refused_total', 'check="origin"')).toBe(2)
    expect(await relay.store.list()).toEqual([])
  })

  it('a stock y-websocket client in a foreign page never syncs; one in a loopback page does', async () => {
    const relay = await startRelay()
    const hijacker = stockClient(relay.url, 'shared', { origin: evil })
    const app = stockClient(relay.url, 'shared', { origin: 'http://localhost:3000' })
    app.doc.getText('t').insert(0, 'private')
    await waitFor(() => app.provider.synced, { what: 'the loopback page to sync' })
    await waitFor(async () => (await metric(relay, 'converge_upgrades_cross_origin_refused_total')) >= 2, {
      what: 'the foreign page to be refused (and retry)',
    })
    expect(hijacker.provider.synced).toBe(false)
    expect(hijacker.doc.getText('t').toString()).toBe('')
  })

  it('pages of the relay itself and of any loopback port are admitted on both framings; clients without Origin too', async () => {
    const relay = await startRelay()
    const own = `http://127.0.0.1:${relay.port}`
    for (const origin of [own, 'http://localhost:1234', 'http://localhost:5173', 'http://[::1]:8080']) {
      expect((await connect(`${relay.url}/d`, { headers: { origin } })).status, origin).toBe(101)
      expect((await connect(relay.url, { headers: { origin }, hello: hello() })).status, origin).toBe(101)
    }
    expect((await connect(`${relay.url}/d`)).status).toBe(101)
  })

  it('DNS rebinding: a foreign name that resolves to the relay is refused by the Host check', async () => {
    const relay = await startRelay()
    // The rebound page is "same origin" with the Host it sends: only the Host check stops it.
    const rebound = `http://attacker.example:${relay.port}`
    const headers = { origin: rebound, host: `attacker.example:${relay.port}` }
    expect((await connect(`${relay.url}/d`, { headers })).status).toBe(403)
    expect((await connect(relay.url, { headers, hello: hello() })).status).toBe(403)
    expect(await metric(relay, 'converge_upgrades_cross_origin_refused_total', 'check="host"')).toBe(2)
  })

  it('--allowed-origins replaces the defaults; --allowed-hosts admits a public name', async () => {
    const relay = await startRelay({ allowedOrigins: ['https://app.example'], allowedHosts: ['relay.example'] })
    const at = (origin: string) => ({ headers: { origin, host: 'relay.example' } })
    expect((await connect(`${relay.url}/d`, at('https://app.example'))).status).toBe(101)
    expect((await connect(relay.url, { ...at('https://app.example'), hello: hello() })).status).toBe(101)
    expect((await connect(`${relay.url}/d`, at('http://localhost:3000'))).status).toBe(403)
    expect((await connect(`${relay.url}/d`, { headers: { origin: 'https://app.example' } })).status).toBe(403)
  })
})

describe('a relay that requires bearer tokens', () => {
  it('accepts any origin (a browser never sends the token on its own), unless --allowed-origins says otherwise', async () => {
    const relay = await startRelay({ authSecret: SECRET })
    const token = await signToken(SECRET, { docs: ['**'], mode: 'write' })
    const headers = { origin: evil }
    expect((await connect(`${relay.url}/d?token=${token}`, { headers })).status).toBe(101)
    expect((await connect(relay.url, { headers, hello: hello(token) })).close).not.toBe(4403)
    expect(refusal(await connect(`${relay.url}/d`, { headers }))).toEqual(unauthorizedAtOnce)

    const strict = await startRelay({ authSecret: SECRET, allowedOrigins: ['https://app.example'] })
    expect((await connect(`${strict.url}/d?token=${token}`, { headers })).status).toBe(403)
    expect((await connect(strict.url, { headers, hello: hello(token) })).status).toBe(403)
  })
})

describe('an open relay listening beyond loopback', () => {
  it('admits only its own origin, under its own names, until told more', async () => {
    const relay = await startRelay({ host: '0.0.0.0' })
    const url = `ws://127.0.0.1:${relay.port}`
    const own = { origin: `http://127.0.0.1:${relay.port}` }
    expect((await connect(`${url}/d`, { headers: own })).status).toBe(101)
    expect((await connect(url, { headers: own, hello: hello() })).status).toBe(101)
    expect((await connect(`${url}/d`, { headers: { origin: 'http://localhost:3000' } })).status).toBe(403)
    expect((await connect(`${url}/d`, { headers: { origin: evil } })).status).toBe(403)
  })
})
