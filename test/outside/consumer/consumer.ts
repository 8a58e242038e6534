// A consumer of every published package's types. The outside-the-workspace test compiles it
// against the installed tarballs with `skipLibCheck: false`, so each .d.ts, and every type it
// references (ws, level, yjs), must resolve from the packages' declared dependencies.
import { type DocStatus, MemoryStore, Replica } from '@converge/core'
import { LevelStore } from '@converge/level'
import { Relay } from '@converge/relay'
import { websocket } from '@converge/websocket'
import * as Y from 'yjs'

export const start = async (): Promise<DocStatus> => {
  const replica = new Replica({ store: new LevelStore('./data') })
  replica.connect(websocket('ws://localhost:1234'))
  const doc: Y.Doc = await replica.open('notes')
  doc.getText('body').insert(0, 'typed\n')
  const memory = new Replica({ store: new MemoryStore() })
  await memory.destroy()
  return replica.status('notes')
}

/** A relay inside this program, with the same options as `converge relay`. */
export const startRelay = (options: Parameters<typeof Relay.start>[0]): Promise<Relay> => Relay.start(options)

export const isDoc = (value: unknown): value is Y.Doc => value instanceof Y.Doc
