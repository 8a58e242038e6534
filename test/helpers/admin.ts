import * as Y from 'yjs'
import type { RelayProcess } from './relay-process.js'

export const ADMIN_TOKEN = 'test-admin-token'
export const adminArgs = ['--admin-token', ADMIN_TOKEN]

/** The relay's stored state of `doc` through its admin API (reads; never subscribes or syncs). */
export const relayDoc = async (relay: RelayProcess, doc: string): Promise<Y.Doc> => {
  const res = await fetch(`${relay.httpUrl}/api/docs/${encodeURIComponent(doc)}/update`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  if (res.status === 404) return new Y.Doc()
  if (res.status !== 200) throw new Error(`admin API answered ${res.status}`)
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, new Uint8Array(await res.arrayBuffer()))
  return ydoc
}

/** Sum of a Prometheus counter over its label sets, optionally filtered by a label predicate. */
export const counter = async (relay: RelayProcess, name: string, keep: (labels: string) => boolean = () => true) => {
  const text = await (await fetch(`${relay.httpUrl}/metrics`)).text()
  let total = 0
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.e+]+)$`).exec(line)
    if (m && keep(m[1] ?? '')) total += Number(m[2])
  }
  return total
}

/** POSTs a Yjs update to `doc` through the admin API; resolves with the HTTP status. */
export const postUpdate = async (relay: RelayProcess, doc: string, update: Uint8Array): Promise<number> => {
  const res = await fetch(`${relay.httpUrl}/api/docs/${encodeURIComponent(doc)}/update`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: Buffer.from(update),
  })
  await res.arrayBuffer()
  return res.status
}
