import type { AnyLevel } from '@converge/level'

/** One webhook delivery, as persisted until it succeeds or is dead-lettered. */
export interface Delivery {
  /** The idempotency key: the same on every attempt of this delivery (header x-converge-delivery). */
  id: string
  url: string
  event: string
  /** The JSON body, exactly as signed and sent. */
  body: string
  attempts: number
  /** When the next attempt is due, ms since the epoch. */
  nextAt: number
  createdAt: number
  /** The last failure (status or error message). */
  lastError?: string
}

/** Where deliveries wait: in the relay's LevelDB, or in memory for a relay on a custom store. */
export interface DeliveryStore {
  pending(): Promise<Delivery[]>
  dead(): Promise<Delivery[]>
  put(d: Delivery): Promise<void>
  /** Delivered: forget it. */
  remove(id: string): Promise<void>
  /** Gave up: move it to the dead-letter list (atomically). */
  bury(d: Delivery): Promise<void>
  /** Moves a dead letter back to the queue, due now. */
  revive(id: string): Promise<Delivery | undefined>
}

/**
 * Deliveries in the relay's LevelDB, beside the documents:
 *   w\0q\0<id>   a pending delivery (JSON)
 *   w\0d\0<id>   a dead letter (JSON)
 */
export class LevelDeliveryStore implements DeliveryStore {
  private readonly db: AnyLevel

  constructor(db: AnyLevel) {
    this.db = db
  }

  private async all(prefix: string): Promise<Delivery[]> {
    const values: Delivery[] = await this.db
      .values({ gte: prefix, lt: `${prefix.slice(0, -1)}\u0001`, ...JSON_ENC })
      .all()
    return values
  }

  pending(): Promise<Delivery[]> {
    return this.all(QUEUE)
  }

  dead(): Promise<Delivery[]> {
    return this.all(DEAD)
  }

  async put(d: Delivery): Promise<void> {
    await this.db.put(QUEUE + d.id, d, JSON_ENC)
  }

  async remove(id: string): Promise<void> {
    await this.db.del(QUEUE + id, KEY)
  }

  async bury(d: Delivery): Promise<void> {
    await this.db.batch([
      { type: 'del', key: QUEUE + d.id, ...KEY },
      { type: 'put', key: DEAD + d.id, value: d, ...JSON_ENC },
    ])
  }

  async revive(id: string): Promise<Delivery | undefined> {
    const d: Delivery | undefined = await this.db.get(DEAD + id, JSON_ENC)
    if (d === undefined) return undefined
    const revived = { ...d, attempts: 0, nextAt: Date.now() }
    await this.db.batch([
      { type: 'del', key: DEAD + id, ...KEY },
      { type: 'put', key: QUEUE + id, value: revived, ...JSON_ENC },
    ])
    return revived
  }
}

const QUEUE = 'w\u0000q\u0000'
const DEAD = 'w\u0000d\u0000'
const KEY = { keyEncoding: 'utf8' } as const
const JSON_ENC = { keyEncoding: 'utf8', valueEncoding: 'json' } as const

/** Deliveries in memory: lost on restart (a relay with a custom store and no LevelDB). */
export class MemoryDeliveryStore implements DeliveryStore {
  private readonly queue = new Map<string, Delivery>()
  private readonly graveyard = new Map<string, Delivery>()

  async pending(): Promise<Delivery[]> {
    return [...this.queue.values()]
  }

  async dead(): Promise<Delivery[]> {
    return [...this.graveyard.values()]
  }

  async put(d: Delivery): Promise<void> {
    this.queue.set(d.id, { ...d })
  }

  async remove(id: string): Promise<void> {
    this.queue.delete(id)
  }

  async bury(d: Delivery): Promise<void> {
    this.queue.delete(d.id)
    this.graveyard.set(d.id, { ...d })
  }

  async revive(id: string): Promise<Delivery | undefined> {
    const d = this.graveyard.get(id)
    if (d === undefined) return undefined
    this.graveyard.delete(id)
    const revived = { ...d, attempts: 0, nextAt: Date.now() }
    this.queue.set(id, revived)
    return revived
  }
}
