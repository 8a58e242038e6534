/**
 * converge's own CPU per echoed presence message, without sockets: stock y-websocket 3.x
 * clients send every presence update they receive back to the server, so a relay takes in
 * about as many awareness messages as it sends (the presence scenario). This feeds a relay
 * `Replica` such echoes (10 entries each, clocks it already knows) through fake
 * transports, on the y-websocket framing, and prints the CPU time per message of the path
 * link → router → session → awareness guard. No kernel or `ws` time is in it, so the figure
 * holds up on a busy machine better than the relay CPU of the presence scenario.
 *
 *   node test/bench/dist/servers/presence-echo-cost.js [--core DIR/packages/core/dist/index.js] [--messages N]
 *
 * `--core` measures another build (A/B against a copy of main).
 */
import { parseArgs } from 'node:util'
import type { Transport, TransportHandler } from '@converge/core'
import * as encoding from 'lib0/encoding'

const { values: args } = parseArgs({
  options: {
    core: { type: 'string' },
    messages: { type: 'string', default: '100000' },
    sessions: { type: 'string', default: '50' },
  },
})
const core: typeof import('@converge/core') = await import(args.core ?? '@converge/core')
const DOC = 'doc'
const messages = Number(args.messages)
const sessions = Number(args.sessions)

/** A y-websocket awareness frame of `entries`. */
const awarenessFrame = (entries: Array<{ client: number; clock: number; state: string }>): Uint8Array => {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, entries.length)
  for (const e of entries) {
    encoding.writeVarUint(update, e.client)
    encoding.writeVarUint(update, e.clock)
    encoding.writeVarString(update, e.state)
  }
  const frame = encoding.createEncoder()
  encoding.writeVarUint(frame, 1)
  encoding.writeVarUint8Array(frame, encoding.toUint8Array(update))
  return encoding.toUint8Array(frame)
}
const stateOf = (client: number) =>
  JSON.stringify({ user: { name: `user ${client}`, color: '#30bced' }, cursor: { anchor: 1234, head: 1240 } })
const settle = () => new Promise((resolve) => setTimeout(resolve, 100))

const relay = new core.Replica({ role: 'relay', peerId: 'relay' })
const handlers: TransportHandler[] = []
for (let i = 0; i < sessions; i++) {
  const transport: Transport = {
    state: 'open',
    bufferedAmount: 0,
    attach: (h) => {
      handlers.push(h)
      queueMicrotask(() => h.onOpen())
    },
    send: () => undefined,
    close: () => undefined,
  }
  relay.accept(transport, { framing: { yWebsocketDoc: DOC } })
}
await settle()
// Each client's sync step 1 (empty state vector), then its own presence.
for (const h of handlers) h.onMessage(new Uint8Array([0, 0, 1, 0]))
await settle()
handlers.forEach((h, i) => {
  h.onMessage(awarenessFrame([{ client: 1000 + i, clock: 1, state: stateOf(1000 + i) }]))
})
await settle()

// The echo of a merged message: 10 states the relay already holds at these clocks.
const echo = awarenessFrame(
  Array.from({ length: 10 }, (_, k) => ({ client: 1000 + k, clock: 1, state: stateOf(1000 + k) })),
)
const echoers = handlers.slice(10)
const feed = (n: number) => {
  for (let i = 0; i < n; i++) (echoers[i % echoers.length] as TransportHandler).onMessage(echo)
}
feed(Math.min(messages, 10_000)) // warm-up (JIT)
const before = process.cpuUsage()
feed(messages)
const used = process.cpuUsage(before)
const us = (used.user + used.system) / messages
console.log(`${us.toFixed(2)} µs CPU per echoed 10-entry presence message (${messages} messages, ${sessions} sessions)`)
await relay.destroy()
process.exit(0)
