/**
 * One client replica of the chaos test, as its own process: a LevelStore in its own
 * directory, one relay connection, and a stream of unique inserts into one document.
 * It reports to the parent over IPC which inserts a relay acknowledged as saved.
 *
 * Run by test/chaos/client-process.ts with `node chaos-client.mjs '<config json>'`; it
 * imports the built packages (dist), so build them first.
 *
 * Each run of a client (an incarnation: it may be SIGKILLed and started again on the
 * same directory) names its inserts `<id>.<incarnation>-<n>`.
 *
 * Parent -> child: run, stop, dump {id}, exit.
 * Child -> parent: ready, inserted {ids}, acked {ids}, stopped {inserted}, state {id, array, stateVector}, log {message}.
 */
import { Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { websocket } from '@converge/websocket'
import * as prng from 'lib0/prng'
import * as Y from 'yjs'

const config = JSON.parse(process.argv[2] ?? '{}')
const send = (message) => process.send?.(message)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

process.on('uncaughtException', (err) => {
  send({ type: 'log', message: `uncaught: ${err?.stack ?? err}` })
  process.exit(1)
})
process.on('unhandledRejection', (err) => {
  send({ type: 'log', message: `unhandled rejection: ${err?.stack ?? err}` })
  process.exit(1)
})

const rng = prng.create(config.seed)
const store = new LevelStore(config.dir)
await store.open()
const prefix = `${config.id}.${config.incarnation}`
const replica = new Replica({ store, peerId: prefix })
replica.on('error', (err, context) => send({ type: 'log', message: `${context}: ${err?.message ?? err}` }))
replica.connect(websocket(config.url), {
  backoff: config.backoff,
  heartbeatInterval: config.heartbeatInterval,
  heartbeatTimeout: config.heartbeatTimeout,
})
const doc = await replica.open(config.doc)
const array = doc.getArray('array')

let running = false
let inserted = 0
/** Ids inserted and not yet reported as acknowledged. */
let unacked = []
let wakeAcks

/** Inserts a batch of unique ids, pauses, repeats, until stopped. */
const insertLoop = async () => {
  let n = 0
  while (running) {
    const ids = []
    for (let k = prng.int32(rng, config.batch[0], config.batch[1]); k > 0; k--) ids.push(`${prefix}-${n++}`)
    array.push(ids)
    send({ type: 'inserted', ids })
    inserted += ids.length
    unacked.push(...ids)
    wakeAcks?.()
    await sleep(prng.int32(rng, config.pause[0], config.pause[1]))
  }
}

/**
 * Reports ids as acknowledged once whenSaved resolves after they were inserted: it
 * resolves when every local change so far is durable on the relay.
 */
const ackLoop = async () => {
  for (;;) {
    if (unacked.length === 0) {
      if (!running) return
      await new Promise((resolve) => {
        wakeAcks = resolve
      })
      continue
    }
    const ids = unacked
    unacked = []
    await replica.whenSaved(config.doc)
    send({ type: 'acked', ids })
  }
}

let acks
process.on('message', async (m) => {
  switch (m.type) {
    case 'run':
      running = true
      acks = ackLoop()
      void insertLoop()
      break
    case 'stop':
      running = false
      wakeAcks?.()
      await acks
      send({ type: 'stopped', inserted })
      break
    case 'dump':
      send({ type: 'state', id: m.id, array: array.toArray(), stateVector: [...Y.encodeStateVector(doc)] })
      break
    case 'exit':
      await replica.destroy()
      await store.close()
      process.exit(0)
  }
})
send({ type: 'ready' })
