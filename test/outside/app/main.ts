// A new app's first page: a replica on IndexedDB (the @converge/level browser build)
// that syncs one note with the relay named in ?relay=… and says `saved` once the relay
// has it durably. The outside-the-workspace test builds it with a stock Vite config.
import { Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { websocket } from '@converge/websocket'

const status = document.querySelector('#status') as HTMLElement
const show = (text: string) => {
  status.textContent = text
}

try {
  const params = new URLSearchParams(location.search)
  const relay = params.get('relay') ?? location.origin.replace(/^http/, 'ws')
  const note = params.get('doc') ?? 'outside-browser'
  const replica = new Replica({ store: new LevelStore('outside-app') })
  replica.connect(websocket(relay))
  const doc = await replica.open(note)
  doc.getText('body').insert(0, 'hello from a browser\n')
  show('saving')
  await replica.whenSaved(note)
  show('saved')
} catch (err) {
  show(`failed: ${err instanceof Error ? err.message : String(err)}`)
}
