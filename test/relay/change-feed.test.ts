import { MemoryStore } from '@converge/core'
import { type ChangeRecord, Relay, type RelayOptions } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { after } from '../helpers/in-process-relay.js'

const ADMIN = 'admin-secret'
const auth = { authorization: `Bearer ${ADMIN}` }
const startRelay = async (options: RelayOptions = {}) => {
  const relay = await Relay.start({
    host: '127.0.0.1',
    port: 0,
    store: new MemoryStore({ changeLog: true }),
    logger: false,
    adminToken: ADMIN,
    ...options,
  })
  after(() => relay.stop())
  return { relay, http: `http://127.0.0.1:${relay.port}` }
}

/** Posts one edit (`text` appended to the doc's Y.Text 't') through the admin API. */
const post = async (http: string, doc: string, text: string) => {
  const ydoc = new Y.Doc()
  ydoc.getText('t').insert(0, text)
  const res = await fetch(`${http}/api/docs/${encodeURIComponent(doc)}/update`, {
    method: 'POST',
    headers: auth,
    body: Buffer.from(Y.encodeStateAsUpdate(ydoc)),
  })
  expect(res.status).toBe(204)
}

const records = async (http: string, query: string): Promise<ChangeRecord[]> => {
  const res = await fetch(`${http}/api/changes?follow=0&${query}`, { headers: auth })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/x-ndjson')
  return (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ChangeRecord)
}

describe('the change feed API', () => {
  it('streams records after a cursor as NDJSON, filtered by document pattern, with who and the state vector', async () => {
    const { http } = await startRelay()
    expect((await fetch(`${http}/api/changes`)).status).toBe(401)
    await post(http, 'team-a/notes', 'one')
    await post(http, 'team-b/notes', 'two')
    await post(http, 'team-a/todo', 'three')
    const all = await records(http, 'since=0')
    expect(all.map((r) => [r.seq, r.doc, r.who])).toEqual([
      [1, 'team-a/notes', 'admin'],
      [2, 'team-b/notes', 'admin'],
      [3, 'team-a/todo', 'admin'],
    ])
    expect((await records(http, 'since=1&docs=team-a/*')).map((r) => r.seq)).toEqual([3])
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Buffer.from(all[0]?.update as string, 'base64'))
    expect(doc.getText('t').toString()).toBe('one')
    expect(Buffer.from(all[0]?.stateVector as string, 'base64')).toEqual(Buffer.from(Y.encodeStateVector(doc)))
  })

  it('a follower gets new records as they become durable, and keep-alive lines while idle', async () => {
    const { http } = await startRelay({ changeKeepAlive: 50 })
    const abort = new AbortController()
    after(() => abort.abort())
    const res = await fetch(`${http}/api/changes?since=0`, { headers: auth, signal: abort.signal })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    const readUntil = async (done: () => boolean) => {
      while (!done()) text += decoder.decode((await reader.read()).value)
    }
    await readUntil(() => text.startsWith('\n'))
    await post(http, 'live', 'x')
    await readUntil(() => text.includes('"seq":1'))
    expect(JSON.parse(text.trim()).doc).toBe('live')
  })

  it('serves Server-Sent Events and resumes from Last-Event-ID', async () => {
    const { http } = await startRelay()
    for (const t of ['a', 'b', 'c']) await post(http, 'sse', t)
    const res = await fetch(`${http}/api/changes?follow=0`, {
      headers: { ...auth, accept: 'text/event-stream', 'last-event-id': '1' },
    })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('id:'))
    expect(events.map((e) => e.split('\n')[0])).toEqual(['id: 2', 'id: 3'])
    expect(events[0]).toContain('event: change')
  })

  it('a cursor older than the retention gets 410 with the oldest available sequence', async () => {
    const { relay, http } = await startRelay({ changeRetentionBytes: 200 })
    for (let i = 0; i < 10; i++) await post(http, 'r', `edit ${i}`)
    const feed = relay.feed
    if (feed === undefined) throw new Error('the relay keeps no change feed')
    expect(await feed.trim()).toBeGreaterThan(0)
    const { oldest } = await feed.log.bounds()
    const res = await fetch(`${http}/api/changes?since=1`, { headers: auth })
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ oldest })
    expect((await records(http, `since=${oldest - 1}`))[0]?.seq).toBe(oldest)
  })

  it('relay.changes() is the same feed as an async iterator', async () => {
    const { relay, http } = await startRelay()
    await post(http, 'it', 'first')
    const abort = new AbortController()
    const seen: string[] = []
    const reading = (async () => {
      for await (const c of relay.changes({ since: 0, signal: abort.signal })) {
        seen.push(`${c.seq} ${c.doc}`)
        if (seen.length === 2) abort.abort()
      }
    })()
    await post(http, 'it', 'second')
    await reading
    expect(seen).toEqual(['1 it', '2 it'])
  })
})
