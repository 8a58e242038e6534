// The smallest Node program that embeds a converge replica: it keeps the note in LevelDB,
// syncs it with a relay, prints the note's text whenever it changes, and adds a line now and then.
import { Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { websocket } from '@converge/websocket'

const [name = 'welcome', relay = 'ws://localhost:1234'] = process.argv.slice(2)
const store = new LevelStore('./embed-data')
const replica = new Replica({ store })
replica.connect(websocket(relay))

const doc = await replica.open(name) // resolves once the stored state is loaded
const body = doc.getText('body') // the notes demo's text, so the browser app shows the same note
const show = () => console.log(`--- ${name}\n${body.toString()}`)
body.observe(show)
show()
replica.on('status', (_doc, status) => console.log(`    (${status.connection}, ${status.summary})`))

const timer = setInterval(
  () => body.insert(body.length, `Hello from Node at ${new Date().toLocaleTimeString()}\n`),
  5_000,
)
process.once('SIGINT', async () => {
  clearInterval(timer)
  await replica.destroy()
  await store.close()
})
