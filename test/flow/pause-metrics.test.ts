import type { Relay } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { after, startRelay } from '../helpers/in-process-relay.js'
import { stockUpdate } from '../helpers/stock-frames.js'
import { waitFor } from '../helpers/wait.js'

/** The value of a metric without labels, read in process. */
const value = async (relay: Relay, name: string) => {
  const metric = relay.metrics.registry.getSingleMetric(name)
  return (await metric?.get())?.values[0]?.value ?? Number.NaN
}

describe('flow-control metrics', () => {
  it('a burst past the in-flight budget counts pauses, paused time and paused connections, and the gauge returns to 0 when it drained', async () => {
    const relay = await startRelay({
      maxInFlightMessages: 4,
      // The rest of one TCP read (hundreds of these small frames) still arrives after a pause.
      inFlightCeiling: 1_000,
    })
    const doc = new Y.Doc()
    const frames: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => frames.push(stockUpdate(update)))
    const text = doc.getText('text')
    for (let i = 0; i < 500; i++) text.insert(0, `edit ${i} `)
    const ws = new WebSocket(`${relay.url}/burst`)
    after(() => ws.terminate())
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve())
      ws.on('error', reject)
    })
    let closed: number | undefined
    ws.on('close', (code) => {
      closed = code
    })
    // The whole burst in one go: more than 4 updates in flight pauses the socket.
    for (const f of frames) ws.send(f)
    await waitFor(async () => (await value(relay, 'converge_flow_pauses_total')) > 0, {
      what: 'a pause to be counted',
    })
    const handle = await relay.open('burst')
    await waitFor(() => handle.doc.getText('text').length === text.length, {
      what: 'the relay to get the burst',
    })
    await waitFor(async () => (await value(relay, 'converge_flow_paused_connections')) === 0, {
      what: 'no connection to be paused any more',
    })
    expect(await value(relay, 'converge_flow_paused_seconds_total')).toBeGreaterThan(0)
    const exposition = await relay.metrics.registry.metrics()
    for (const name of [
      'converge_flow_pauses_total',
      'converge_flow_paused_seconds_total',
      'converge_flow_paused_connections',
    ]) {
      expect(exposition).toContain(`# TYPE ${name}`)
    }
    expect(closed).toBeUndefined()
  })
})
