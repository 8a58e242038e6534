import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { MemoryStore, Replica } from '@converge/core'
import { websocket } from '@converge/websocket'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Relay } from './relay.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI. */
const selfSigned = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'converge-tls-'))
  dirs.push(dir)
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ])
  return { cert, key, ca: await readFile(cert) }
}

describe('a relay with --tls-cert and --tls-key', () => {
  it('serves https and wss, and a replica syncs through it', async () => {
    const { cert, key, ca } = await selfSigned()
    const relay = await Relay.start({
      host: '127.0.0.1',
      port: 0,
      store: new MemoryStore(),
      logger: false,
      tlsCert: cert,
      tlsKey: key,
    })
    try {
      expect(relay.url.startsWith('wss://')).toBe(true)
      const status = await new Promise<number>((resolve, reject) => {
        get(`https://127.0.0.1:${relay.port}/healthz`, { ca }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        }).on('error', reject)
      })
      expect(status).toBe(200)
      // A WebSocket that trusts the test certificate.
      class TrustingWebSocket extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { ca })
        }
      }
      const replica = new Replica()
      replica.connect(websocket(relay.url, { WebSocket: TrustingWebSocket as never }))
      const doc = await replica.open('secure')
      doc.getText('t').insert(0, 'over tls')
      await replica.whenSaved('secure', { timeout: 5000 })
      await replica.destroy()
    } finally {
      await relay.stop()
    }
  })

  it('refuses a certificate without its key', async () => {
    await expect(
      Relay.start({ port: 0, store: new MemoryStore(), logger: false, tlsCert: 'cert.pem' }),
    ).rejects.toThrow(/both a certificate and a key/)
  })
})
