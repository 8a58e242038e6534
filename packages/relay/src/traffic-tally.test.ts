import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { TrafficTally } from './traffic-tally.js'

const sampleOf = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.split(' ')[1])
}

describe('TrafficTally', () => {
  it('each scrape shows every frame and byte counted so far, exactly once', async () => {
    const registry = new Registry()
    const tally = new TrafficTally([registry])
    for (let i = 0; i < 3; i++) tally.sent('update', 10)
    tally.received('awareness', 7)
    let text = await registry.metrics()
    expect(sampleOf(text, 'converge_messages_out_total{type="update"}')).toBe(3)
    expect(sampleOf(text, 'converge_bytes_out_total')).toBe(30)
    expect(sampleOf(text, 'converge_messages_in_total{type="awareness"}')).toBe(1)
    expect(sampleOf(text, 'converge_bytes_in_total')).toBe(7)
    // A second scrape adds nothing new; later frames add to the totals.
    text = await registry.metrics()
    expect(sampleOf(text, 'converge_messages_out_total{type="update"}')).toBe(3)
    tally.sent('update', 5)
    text = await registry.metrics()
    expect(sampleOf(text, 'converge_messages_out_total{type="update"}')).toBe(4)
    expect(sampleOf(text, 'converge_bytes_out_total')).toBe(35)
  })
})
