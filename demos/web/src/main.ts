import { broadcastChannel, type DocStatus, Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { websocket } from '@converge/websocket'
import { currentDoc } from './doc-route.js'
import { NotesApp } from './notes-app.js'
import { registerServiceWorker } from './service-worker-registration.js'
import type { Todo } from './todo-list.js'
import { WatchedStore } from './watched-store.js'

/** The IndexedDB database and the BroadcastChannel between this origin's tabs. */
const APP_NAME = 'converge-notes'

/**
 * The relay: `?relay=ws://…`, else VITE_RELAY_URL from the build (`npm run dev` points it at
 * a local relay), else the server that served this page.
 */
const relayUrl = (): string =>
  new URLSearchParams(location.search).get('relay') ??
  (import.meta.env.VITE_RELAY_URL as string | undefined) ??
  location.origin.replace(/^http/, 'ws')

const store = new WatchedStore(new LevelStore(APP_NAME), () => app.renderStatus())
const replica = new Replica({ store })
const app = new NotesApp(replica, store)
const dialRelay = websocket(relayUrl())
// Counting dials lets the header tell "connecting" (the first try) from "offline" (retrying).
replica.connect(() => {
  app.relayDialed()
  return dialRelay()
})
// The other tabs of this origin: they sync with this one directly, online or not.
replica.connect(broadcastChannel(APP_NAME), { upstream: false, handshake: false })

/** A small window into the app for tests and curious people in the console. */
export interface ConvergeHook {
  replica: Replica
  store: WatchedStore
  /** Differs per page load: a test checks that a page resumed without reloading. */
  pageId: string
  docName(): string | undefined
  status(): DocStatus | undefined
  content(): { title: string; body: string; todos: Todo[] } | undefined
  /** Resolves once every change so far is written to IndexedDB. */
  whenWritten(): Promise<void>
}

declare global {
  interface Window {
    converge: ConvergeHook
  }
}

window.converge = {
  replica,
  store,
  pageId: crypto.randomUUID(),
  docName: () => app.note?.name,
  status: () => (app.note === undefined ? undefined : replica.status(app.note.name)),
  content: () => {
    const note = app.note
    if (note === undefined) return undefined
    return {
      title: note.doc.getText('title').toString(),
      body: note.doc.getText('body').toString(),
      todos: note.todos.items(),
    }
  },
  whenWritten: () => store.whenWritten(),
}

registerServiceWorker()
void app.show(currentDoc())
