import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryStore } from '@converge/core'
import { parseWebhookSpec, Relay, retryDelay, verifyWebhook, type WebhookPayload } from '@converge/relay'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = 'webhook-secret'
const ADMIN = 'admin'
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

interface Received {
  id: string
  attempt: number
  status: number
  signed: boolean
  payload: WebhookPayload
}

/** An HTTP receiver that answers 500 while `failing` says so, and records every request. */
const receiver = async (failing: (r: IncomingMessage) => boolean) => {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const status = failing(req) ? 500 : 200
      received.push({
        id: String(req.headers['x-converge-delivery']),
        attempt: Number(req.headers['x-converge-attempt']),
        status,
        signed: verifyWebhook(SECRET, String(req.headers['x-converge-signature'] ?? ''), body),
        payload: JSON.parse(body) as WebhookPayload,
      })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

const postText = async (http: string, doc: string, text: string) => {
  const ydoc = new Y.Doc()
  ydoc.getText('t').insert(0, text)
  const res = await fetch(`${http}/api/docs/${doc}/update`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
    body: Buffer.from(Y.encodeStateAsUpdate(ydoc)),
  })
  expect(res.status).toBe(204)
}

describe('webhooks', () => {
  it('parses --webhook specs, and retry delays grow exponentially with jitter up to the cap', () => {
    expect(parseWebhookSpec('https://a/h;events=change-settled;docs=team/**;include=json+delta')).toEqual({
      url: 'https://a/h',
      events: ['change-settled'],
      docs: 'team/**',
      include: ['json', 'delta'],
    })
    expect(() => parseWebhookSpec('https://a/h;events=nope')).toThrow(/unknown event/)
    expect(retryDelay(1, 1000, 60_000, () => 0)).toBe(500)
    expect(retryDelay(3, 1000, 60_000, () => 1)).toBe(4000)
    expect(retryDelay(30, 1000, 60_000, () => 1)).toBe(60_000)
  })

  it('a receiver that fails the first deliveries, with a relay SIGKILL in between, gets every event, signed, duplicates sharing their key', async () => {
    let accepting = false
    const hook = await receiver(() => !accepting)
    const relay = await RelayProcess.start({
      extraArgs: [
        '--admin-token',
        ADMIN,
        '--webhook',
        `${hook.url};include=json`,
        '--webhook-secret',
        SECRET,
        '--webhook-retry-delay',
        '100',
        '--settle-delay',
        '50',
      ],
    })
    cleanup.push(() => relay.dispose())
    await postText(relay.httpUrl, 'a', 'first')
    const events = () => new Set(hook.received.map((r) => `${r.payload.event} ${r.payload.doc}`))
    await waitFor(() => events().has('document-created a') && events().has('change-settled a'), {
      what: 'both events of a to be attempted',
    })
    await relay.kill()
    accepting = true
    await relay.start()
    await postText(relay.httpUrl, 'b', 'second')
    const del = await fetch(`${relay.httpUrl}/api/docs/a`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(del.status).toBe(204)
    const delivered = () => hook.received.filter((r) => r.status === 200)
    const expected = [
      'change-settled a',
      'change-settled b',
      'document-created a',
      'document-created b',
      'document-deleted a',
    ]
    await waitFor(() => new Set(delivered().map((r) => `${r.payload.event} ${r.payload.doc}`)).size === 5, {
      timeout: 20_000,
      what: 'every event to be delivered',
    })
    expect([...new Set(delivered().map((r) => `${r.payload.event} ${r.payload.doc}`))].sort()).toEqual(expected)
    expect(hook.received.every((r) => r.signed)).toBe(true)
    // Every failed attempt is a duplicate of a delivered one: same idempotency key.
    const deliveredIds = new Set(delivered().map((r) => r.id))
    for (const failed of hook.received.filter((r) => r.status !== 200)) expect(deliveredIds.has(failed.id)).toBe(true)
    for (const r of hook.received) expect(r.payload.id).toBe(r.id)
    const settledA = delivered().find((r) => r.payload.event === 'change-settled' && r.payload.doc === 'a')
    // It was first attempted (and refused) by the relay that was killed: the restarted one sent it again.
    expect(hook.received.some((r) => r.status === 500 && r.id === settledA?.id)).toBe(true)
    expect(settledA?.payload.json).toEqual({ t: 'first' })
  })

  it('a delivery that exhausts its attempts is dead-lettered, listed in the admin API and /metrics, and can be retried', async () => {
    let accepting = false
    const hook = await receiver(() => !accepting)
    const relay = await Relay.start({
      host: '127.0.0.1',
      port: 0,
      store: new MemoryStore(),
      logger: false,
      adminToken: ADMIN,
      webhooks: [{ url: hook.url, events: ['document-created'] }],
      webhookSecret: SECRET,
      webhookMaxAttempts: 2,
      webhookRetryDelay: 10,
    })
    cleanup.push(() => relay.stop())
    const http = `http://127.0.0.1:${relay.port}`
    await postText(http, 'doomed', 'x')
    const dead = async () =>
      (
        (await (
          await fetch(`${http}/api/webhooks/dead`, { headers: { authorization: `Bearer ${ADMIN}` } })
        ).json()) as {
          dead: Array<{ id: string; attempts: number }>
        }
      ).dead
    await waitFor(async () => (await dead()).length === 1, { what: 'a dead letter' })
    expect((await dead())[0]?.attempts).toBe(2)
    expect(await relay.metrics.registry.metrics()).toMatch(/converge_webhook_dead_letters 1/)
    accepting = true
    const id = (await dead())[0]?.id as string
    const retry = await fetch(`${http}/api/webhooks/dead/${id}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    expect(retry.status).toBe(202)
    await waitFor(() => hook.received.some((r) => r.status === 200 && r.id === id), { what: 'the retried delivery' })
    expect(await dead()).toEqual([])
  })
})
