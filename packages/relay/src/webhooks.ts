import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import * as Y from 'yjs'
import { sendJson } from './admin-api.js'
import { compileDocPattern } from './doc-pattern.js'
import type { DocumentSettledPayload } from './extensions.js'
import { OptionValueError } from './option-parsers.js'
import type { WebhookQueue } from './webhook-queue.js'

export type WebhookEvent = 'change-settled' | 'document-created' | 'document-deleted'
export const WEBHOOK_EVENTS: WebhookEvent[] = ['change-settled', 'document-created', 'document-deleted']

/** Where and what to deliver. */
export interface WebhookTarget {
  url: string
  /** The events to send. Default: all. */
  events?: WebhookEvent[]
  /** Only documents matching this pattern (see doc-pattern.ts). Default: all. */
  docs?: string
  /**
   * Extras of change-settled payloads: 'json' the document as JSON, 'delta' the Yjs update
   * since the version this target was last sent (base64; the whole state after a restart).
   */
  include?: Array<'json' | 'delta'>
}

/**
 * Parses a `--webhook` value: `URL[;events=E1+E2][;docs=GLOB][;include=json+delta]`,
 * e.g. `https://app/hooks/converge;events=change-settled;docs=team-a/**;include=json`.
 * (`+` separates list items: a comma separates webhooks in the env and the config file.)
 */
export const parseWebhookSpec = (spec: string): WebhookTarget => {
  const [url, ...params] = spec.split(';')
  if (url === undefined || !/^https?:\/\//.test(url)) throw new Error(`webhook ${spec}: the URL must be http(s)`)
  const target: WebhookTarget = { url }
  for (const param of params) {
    const [key, value = ''] = param.split('=', 2)
    const list = value.split('+').filter(Boolean)
    if (key === 'events') {
      for (const e of list)
        if (!WEBHOOK_EVENTS.includes(e as WebhookEvent)) throw new Error(`webhook: unknown event ${e}`)
      target.events = list as WebhookEvent[]
    } else if (key === 'docs') target.docs = value
    else if (key === 'include') {
      for (const i of list) if (i !== 'json' && i !== 'delta') throw new Error(`webhook: unknown include ${i}`)
      target.include = list as Array<'json' | 'delta'>
    } else throw new Error(`webhook ${spec}: unknown parameter ${key}`)
  }
  return target
}

/** `--webhook` values, comma-separated (env, config file), each checked; throws OptionValueError. */
export const webhookSpecs = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((spec) => {
      try {
        parseWebhookSpec(spec)
      } catch (err) {
        throw new OptionValueError((err as Error).message)
      }
      return spec
    })

/** The JSON body of every delivery. */
export interface WebhookPayload {
  /** The idempotency key, also in the x-converge-delivery header. */
  id: string
  event: WebhookEvent
  doc: string
  /** The document's state vector (base64); empty for document-deleted. */
  version: string
  /** When the event happened, ms since the epoch. */
  time: number
  json?: Record<string, unknown>
  /** The Yjs update since `since` (base64). */
  delta?: string
  /** The version the delta starts from (base64; '' for the empty document). */
  since?: string
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** Turns document events into deliveries for each matching target. */
export class Webhooks {
  private readonly targets: Array<WebhookTarget & { pattern: RegExp | undefined }>
  private readonly queue: WebhookQueue
  private readonly known = new Set<string>()
  /** Per target index and document: the version last sent, for deltas. */
  private readonly sent = new Map<string, Uint8Array>()
  private readonly onError: (err: unknown) => void

  constructor(targets: WebhookTarget[], queue: WebhookQueue, onError: (err: unknown) => void) {
    this.targets = targets.map((t) => ({ ...t, pattern: t.docs === undefined ? undefined : compileDocPattern(t.docs) }))
    this.queue = queue
    this.onError = onError
  }

  /** Learns the existing documents (so only new ones count as created) and starts sending. */
  async start(existing: string[]): Promise<void> {
    for (const doc of existing) this.known.add(doc)
    await this.queue.start()
  }

  changed(doc: string): void {
    if (this.known.has(doc)) return
    this.known.add(doc)
    this.emit('document-created', doc, () => ({ version: '' }))
  }

  deleted(doc: string): void {
    this.known.delete(doc)
    this.emit('document-deleted', doc, () => ({ version: '' }))
  }

  settled(p: DocumentSettledPayload): void {
    this.emit('change-settled', p.doc, (target, index) => {
      const extra: Partial<WebhookPayload> = { version: b64(p.stateVector) }
      if (target.include?.includes('json')) extra.json = p.json
      if (target.include?.includes('delta')) {
        const key = `${index}\u0000${p.doc}`
        const since = this.sent.get(key)
        extra.delta = b64(since === undefined ? p.state : Y.diffUpdate(p.state, since))
        extra.since = since === undefined ? '' : b64(since)
        this.sent.set(key, p.stateVector)
      }
      return extra
    })
  }

  private emit(
    event: WebhookEvent,
    doc: string,
    extra: (target: WebhookTarget, index: number) => Partial<WebhookPayload>,
  ): void {
    const time = Date.now()
    this.targets.forEach((target, index) => {
      if (target.events !== undefined && !target.events.includes(event)) return
      if (target.pattern !== undefined && !target.pattern.test(doc)) return
      const id = randomUUID()
      const body = JSON.stringify({ id, event, doc, version: '', time, ...extra(target, index) })
      this.queue
        .enqueue({ id, url: target.url, event, body, attempts: 0, nextAt: time, createdAt: time })
        .catch(this.onError)
    })
  }

  /** GET /api/webhooks/dead, POST /api/webhooks/dead/:id/retry (admin API). */
  route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path === '/api/webhooks/dead' && req.method === 'GET') {
      sendJson(res, 200, { dead: await this.queue.dead() })
      return true
    }
    const m = /^\/api\/webhooks\/dead\/([^/]+)\/retry$/.exec(path)
    if (m !== null && req.method === 'POST') {
      const found = await this.queue.retryDead(decodeURIComponent(m[1] as string))
      sendJson(res, found ? 202 : 404, found ? { status: 'queued' } : { error: 'no such dead letter' })
      return true
    }
    return false
  }
}
