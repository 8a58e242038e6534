import { Counter, type Registry } from 'prom-client'

/**
 * Frames and bytes through the relay's connections, each way. Every frame is counted, so
 * the count is a plain tally per message type, folded into the Prometheus counters when they
 * are scraped: prom-client hashes the labels of every `inc`, which cost a few per cent of a
 * relay's time in fan-out and presence (test/bench servers profiles).
 */
export class TrafficTally {
  readonly messagesIn: Counter<'type'>
  readonly messagesOut: Counter<'type'>
  readonly bytesIn: Counter
  readonly bytesOut: Counter
  private readonly pending = { in: new Map<string, number>(), out: new Map<string, number>(), bytesIn: 0, bytesOut: 0 }

  constructor(registers: Registry[]) {
    const pending = this.pending
    const fold = (counter: Counter<'type'>, tally: Map<string, number>) => {
      for (const [type, n] of tally) counter.inc({ type }, n)
      tally.clear()
    }
    this.messagesIn = new Counter({
      name: 'converge_messages_in_total',
      help: 'Frames received, by message type',
      labelNames: ['type'],
      registers,
      collect() {
        fold(this, pending.in)
      },
    })
    this.messagesOut = new Counter({
      name: 'converge_messages_out_total',
      help: 'Frames sent, by message type',
      labelNames: ['type'],
      registers,
      collect() {
        fold(this, pending.out)
      },
    })
    this.bytesIn = new Counter({
      name: 'converge_bytes_in_total',
      help: 'Bytes received in frames',
      registers,
      collect() {
        if (pending.bytesIn > 0) this.inc(pending.bytesIn)
        pending.bytesIn = 0
      },
    })
    this.bytesOut = new Counter({
      name: 'converge_bytes_out_total',
      help: 'Bytes sent in frames',
      registers,
      collect() {
        if (pending.bytesOut > 0) this.inc(pending.bytesOut)
        pending.bytesOut = 0
      },
    })
  }

  received(type: string, bytes: number): void {
    this.pending.in.set(type, (this.pending.in.get(type) ?? 0) + 1)
    this.pending.bytesIn += bytes
  }

  sent(type: string, bytes: number): void {
    this.pending.out.set(type, (this.pending.out.get(type) ?? 0) + 1)
    this.pending.bytesOut += bytes
  }
}
