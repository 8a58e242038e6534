/**
 * The Hocuspocus 3.4 server under test: the stock Server with LevelDB persistence.
 *
 * Persistence follows @hocuspocus/extension-database (not installed here: it is ~20
 * lines): onLoadDocument applies the stored state, onStoreDocument writes
 * Y.encodeStateAsUpdate(document) — one key per document, in a `level` (classic-level)
 * database, the same engine y-leveldb and converge use. Debounce settings are the stock
 * defaults (onStoreDocument at most every 2 s of quiet, at least every 10 s), since that
 * is how Hocuspocus is run; the benchmark reports when state is applied and when durable.
 *
 * Env: PORT (required), DATA (LevelDB directory, required), HOST (default 127.0.0.1).
 * Answers drain requests over IPC when started with one (see drain-probe.ts).
 */
import { Server } from '@hocuspocus/server'
import { Level } from 'level'
import * as Y from 'yjs'
import { covers, serveDrainRequests, storeState, until } from './drain-probe.js'

const port = Number(process.env.PORT)
const data = process.env.DATA
if (!Number.isInteger(port) || data === undefined) throw new Error('PORT and DATA must be set')

const db = new Level<string, Uint8Array>(data, { valueEncoding: 'view' })
await db.open()

/** The state vector of what each document last stored. */
const stored = new Map<string, Map<number, number>>()

const server = new Server({
  port,
  address: process.env.HOST ?? '127.0.0.1',
  quiet: true,
  extensions: [
    {
      async onLoadDocument({ documentName, document }) {
        const state = await db.get(documentName)
        if (state !== undefined) Y.applyUpdate(document, state)
      },
      async onStoreDocument({ documentName, document }) {
        const sv = storeState(document)
        await db.put(documentName, Y.encodeStateAsUpdate(document))
        stored.set(documentName, sv)
      },
    },
  ],
  async onDestroy() {
    await db.close()
  },
})
await server.listen()

if (process.send !== undefined) {
  serveDrainRequests(async ({ doc, want }) => {
    const appliedAt = await until(() => {
      const d = server.hocuspocus.documents.get(doc)
      return d !== undefined && covers(storeState(d), want)
    })
    const durableAt = covers(stored.get(doc), want) ? appliedAt : await until(() => covers(stored.get(doc), want))
    return { appliedAt, durableAt }
  })
}
