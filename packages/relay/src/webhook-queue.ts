import type { Logger } from 'pino'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Delivery, DeliveryStore } from './webhook-deliveries.js'
import { signWebhook } from './webhook-signature.js'

export interface WebhookQueueOptions {
  /** HMAC-SHA256 secret of the signature header. Default: none (deliveries are unsigned). */
  webhookSecret?: string
  /** Attempts before a delivery is dead-lettered. Default 8. */
  webhookMaxAttempts?: number
  /** Delay before the first retry, in ms; doubled per attempt, with jitter. Default 1_000. */
  webhookRetryDelay?: number
  /** Longest delay between two attempts, in ms. Default 300_000. */
  webhookMaxRetryDelay?: number
  /** Give up an attempt that has no response after this long, in ms. Default 10_000. */
  webhookTimeout?: number
  /** Deliveries in flight at once. Default 4. */
  webhookConcurrency?: number
}

export const WEBHOOK_DEFAULTS = {
  webhookMaxAttempts: 8,
  webhookRetryDelay: 1_000,
  webhookMaxRetryDelay: 300_000,
  webhookTimeout: 10_000,
  webhookConcurrency: 4,
}

/** The delay before attempt `attempts + 1`: exponential, capped, with full jitter on its upper half. */
export const retryDelay = (attempts: number, base: number, max: number, random = Math.random): number => {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempts - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/**
 * Sends persisted deliveries: each attempt is an HTTP POST of the stored body, signed at
 * send time; a 2xx removes it, anything else (status, network error, timeout) schedules a
 * retry, and after `webhookMaxAttempts` it moves to the dead-letter list. Pending
 * deliveries are read back from the store at start, so a restart loses none.
 */
export class WebhookQueue {
  private readonly store: DeliveryStore
  private readonly options: typeof WEBHOOK_DEFAULTS & { webhookSecret?: string }
  private readonly log: Logger
  private readonly waiting = new Map<string, Delivery>()
  private readonly inFlight = new Set<string>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private readonly sends = new Set<Promise<void>>()
  private readonly results: Counter<'result'>
  private readonly deadLetters: Gauge

  constructor(store: DeliveryStore, options: WebhookQueueOptions, registry: Registry, log: Logger) {
    this.store = store
    this.options = { ...WEBHOOK_DEFAULTS, ...options }
    this.log = log
    this.results = new Counter({
      name: 'converge_webhook_attempts_total',
      help: 'Webhook delivery attempts, by result: delivered, failed (retried later), dead (dead-lettered)',
      labelNames: ['result'],
      registers: [registry],
    })
    new Gauge({
      name: 'converge_webhook_pending',
      help: 'Webhook deliveries waiting to be sent',
      registers: [registry],
      collect: (() => {
        const waiting = this.waiting
        return function (this: Gauge) {
          this.set(waiting.size)
        }
      })(),
    })
    this.deadLetters = new Gauge({
      name: 'converge_webhook_dead_letters',
      help: 'Webhook deliveries that exhausted their attempts (see GET /api/webhooks/dead)',
      registers: [registry],
    })
  }

  /** Reads the persisted queue and starts sending. */
  async start(): Promise<void> {
    for (const d of await this.store.pending()) this.waiting.set(d.id, d)
    this.deadLetters.set((await this.store.dead()).length)
    this.schedule()
  }

  /** Persists a new delivery, then sends it. Resolves once it is persisted. */
  async enqueue(d: Delivery): Promise<void> {
    await this.store.put(d)
    this.waiting.set(d.id, d)
    this.schedule()
  }

  dead(): Promise<Delivery[]> {
    return this.store.dead()
  }

  async retryDead(id: string): Promise<boolean> {
    const d = await this.store.revive(id)
    if (d === undefined) return false
    this.deadLetters.dec()
    this.waiting.set(d.id, d)
    this.schedule()
    return true
  }

  private schedule(): void {
    if (this.stopped) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const d of this.waiting.values()) {
      if (this.inFlight.has(d.id)) continue
      if (d.nextAt <= now && this.inFlight.size < this.options.webhookConcurrency) this.send(d)
      else next = Math.min(next, Math.max(d.nextAt, now + 10))
    }
    if (next < Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(() => this.schedule(), next - now)
      this.timer.unref()
    }
  }

  private send(d: Delivery): void {
    this.inFlight.add(d.id)
    const run = this.attempt(d)
      .catch((err) => this.log.error({ err, delivery: d.id }, 'webhook bookkeeping failed'))
      .finally(() => {
        this.inFlight.delete(d.id)
        this.sends.delete(run)
        this.schedule()
      })
    this.sends.add(run)
  }

  private async attempt(d: Delivery): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'converge-relay',
      'x-converge-event': d.event,
      'x-converge-delivery': d.id,
      'x-converge-attempt': String(d.attempts + 1),
    }
    if (this.options.webhookSecret !== undefined) {
      headers['x-converge-signature'] = signWebhook(this.options.webhookSecret, timestamp, d.body)
    }
    let error: string | undefined
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers,
        body: d.body,
        signal: AbortSignal.timeout(this.options.webhookTimeout),
      })
      await res.arrayBuffer().catch(() => undefined)
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`
    } catch (err) {
      error = (err as Error)?.message ?? String(err)
    }
    if (this.stopped && error !== undefined) return
    if (error === undefined) {
      this.waiting.delete(d.id)
      this.results.inc({ result: 'delivered' })
      await this.store.remove(d.id)
      return
    }
    const failed: Delivery = { ...d, attempts: d.attempts + 1, lastError: error }
    if (failed.attempts >= this.options.webhookMaxAttempts) {
      this.waiting.delete(d.id)
      this.results.inc({ result: 'dead' })
      this.deadLetters.inc()
      this.log.warn({ delivery: d.id, url: d.url, error }, 'webhook delivery dead-lettered')
      await this.store.bury(failed)
      return
    }
    failed.nextAt =
      Date.now() + retryDelay(failed.attempts, this.options.webhookRetryDelay, this.options.webhookMaxRetryDelay)
    this.waiting.set(d.id, failed)
    this.results.inc({ result: 'failed' })
    await this.store.put(failed)
  }

  /** Stops sending; attempts in flight finish (a failure among them stays queued for the next start). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await Promise.allSettled([...this.sends])
  }
}
