// Three relays in a mesh, in one process: a change written through one relay arrives on the
// other two. Run with --serve to keep them running (ports 4001-4003, each serving the notes app).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Replica } from '@converge/core'
import { Relay } from '@converge/relay'
import { websocket } from '@converge/websocket'

const serve = process.argv.includes('--serve')
const DOC = 'mesh-demo'
/** How long to wait for a change to arrive everywhere, in ms. */
const ARRIVAL_TIMEOUT = 10_000
const webApp = fileURLToPath(new URL('../web/dist', import.meta.url))

const dataRoot = await mkdtemp(join(tmpdir(), 'converge-mesh-'))
const relays = []
for (const [i, label] of ['A', 'B', 'C'].entries()) {
  // Each relay dials the ones started before it; links carry both ways, so this is a full mesh.
  const relay = await Relay.start({
    host: '127.0.0.1',
    port: serve ? 4001 + i : 0,
    data: join(dataRoot, label),
    peers: relays.map((r) => r.url),
    // No tokens in this demo: the relays admit each other's relay role on loopback.
    allowUnauthenticatedRelays: true,
    static: serve ? webApp : undefined,
    logger: false,
  })
  relay.label = label
  relays.push(relay)
  console.log(
    `relay ${label} on ${relay.url}${
      relay.meshPeers.length
        ? `, peering with ${relays
            .slice(0, i)
            .map((r) => r.label)
            .join(' and ')}`
        : ''
    }`,
  )
}

// One client replica per relay, each with the same document open.
const clients = relays.map((relay) => {
  const replica = new Replica()
  replica.connect(websocket(relay.url))
  return { relay, replica }
})
const docs = await Promise.all(clients.map((c) => c.replica.open(DOC)))
await Promise.all(clients.map((c) => c.replica.whenSynced(DOC, { timeout: ARRIVAL_TIMEOUT })))

/** Writes a line through one relay's client and reports when each other client has it. */
const writeThrough = async (from, line) => {
  console.log(`\nwriting "${line}" through relay ${clients[from].relay.label}`)
  const started = performance.now()
  const arrivals = docs.map((doc, i) => {
    if (i === from) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const text = doc.getText('body')
      const timer = setTimeout(
        () => reject(new Error(`not on relay ${clients[i].relay.label} in time`)),
        ARRIVAL_TIMEOUT,
      )
      const check = () => {
        if (!text.toString().includes(line)) return
        clearTimeout(timer)
        text.unobserve(check)
        console.log(
          `  arrived through relay ${clients[i].relay.label} after ${(performance.now() - started).toFixed(1)} ms`,
        )
        resolve()
      }
      text.observe(check)
    })
  })
  const body = docs[from].getText('body')
  body.insert(body.length, `${line}\n`)
  await Promise.all(arrivals)
  await clients[from].replica.whenSaved(DOC, { timeout: ARRIVAL_TIMEOUT })
}

await writeThrough(0, 'Hello from a client of relay A')
await writeThrough(2, 'And back from a client of relay C')
console.log(`\nevery client now reads:\n${docs[1].getText('body').toString()}`)

if (serve) {
  console.log('\nThe relays keep running. Open the notes app on each and watch edits cross the mesh:')
  for (const r of relays) console.log(`  http://127.0.0.1:${r.port}/#${DOC}`)
  console.log('Ctrl-C stops them.')
  await new Promise((resolve) => process.once('SIGINT', resolve))
}

await Promise.all(clients.map((c) => c.replica.destroy()))
await Promise.all(relays.map((r) => r.stop()))
await rm(dataRoot, { recursive: true, force: true })
