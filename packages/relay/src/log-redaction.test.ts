import { Writable } from 'node:stream'
import { MemoryStore } from '@converge/core'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { redactUrl } from './redact.js'
import { Relay } from './relay.js'
import { signToken } from './tokens.js'

const SECRET = 'log-redaction-secret-0123456789abcdef'
const relays: Relay[] = []
afterEach(async () => {
  while (relays.length > 0) await (relays.pop() as Relay).stop()
})

/** Opens a WebSocket and resolves when it is closed or refused. */
const attempt = (url: string, headers: Record<string, string> = {}) =>
  new Promise<void>((resolve) => {
    const ws = new WebSocket(url, { headers })
    ws.on('open', () => setTimeout(() => ws.close(), 50))
    ws.on('close', () => resolve())
    ws.on('unexpected-response', () => {
      ws.terminate()
      resolve()
    })
    ws.on('error', () => resolve())
  })

describe('tokens in logs', () => {
  it('redactUrl hides the values of credential parameters and keeps the rest', () => {
    expect(redactUrl('/team/x?token=abc.def.ghi&v=1')).toBe('/team/x?token=[redacted]&v=1')
    expect(redactUrl('/x?a=1&access_token=zzz')).toBe('/x?a=1&access_token=[redacted]')
    expect(redactUrl('/x')).toBe('/x')
  })

  it('no log line carries a token, whatever the request did (accepted, forbidden, invalid, cross-origin)', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const relay = await Relay.start({
      host: '127.0.0.1',
      port: 0,
      store: new MemoryStore(),
      authSecret: SECRET,
      allowedOrigins: ['https://app.example'],
      logger: pino({ level: 'trace' }, sink),
    })
    relays.push(relay)
    const good = await signToken(SECRET, { docs: ['team/*'], mode: 'write' }, '10m')
    const bad = `${good.slice(0, -4)}AAAA`
    await attempt(`${relay.url}/team/x?token=${good}`)
    await attempt(`${relay.url}/other?token=${good}`)
    await attempt(`${relay.url}/team/x?token=${bad}`)
    await attempt(`${relay.url}/team/x?token=${good}`, { origin: 'https://evil.example' })
    await expect.poll(() => lines.filter((l) => l.includes('upgrade refused')).length).toBe(3)
    const log = lines.join('')
    expect(log).toContain('token=[redacted]')
    for (const secret of [good, bad, good.split('.')[2] as string]) expect(log).not.toContain(secret)
  })
})
