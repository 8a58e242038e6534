import { Replica } from '@converge/core'
import type { ChangeRecord } from '@converge/relay'
import { websocket } from '@converge/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import { type Patch, readTrace } from './trace-file.js'

const ADMIN = 'feed-admin'
const DOC = 'typed'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/**
 * A change-feed consumer as a stream processor would be: reads NDJSON from its cursor,
 * applies each record, and on any break reconnects from the last sequence it processed.
 */
class Consumer {
  readonly doc = new Y.Doc()
  lastSeq = 0
  readonly seqs: number[] = []
  reconnects = 0
  lastStateVector = ''
  private stopped = false
  private abort = new AbortController()
  private readonly done: Promise<void>

  constructor(private readonly baseUrl: () => string) {
    this.done = this.run()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.readOnce()
      } catch {
        // the relay died under us: resume from our cursor
      }
      if (this.stopped) return
      this.reconnects++
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  private async readOnce(): Promise<void> {
    this.abort = new AbortController()
    const res = await fetch(`${this.baseUrl()}/api/changes?since=${this.lastSeq}&docs=${DOC}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
      signal: this.abort.signal,
    })
    if (res.status !== 200 || res.body === null) throw new Error(`status ${res.status}`)
    const decoder = new TextDecoder()
    let buffered = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true })
      let nl = buffered.indexOf('\n')
      while (nl >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line !== '') this.apply(JSON.parse(line) as ChangeRecord)
        nl = buffered.indexOf('\n')
      }
    }
  }

  private apply(record: ChangeRecord): void {
    // A resumed stream starts after our cursor: no record is seen twice or skipped.
    expect(record.seq).toBe(this.lastSeq + 1)
    Y.applyUpdate(this.doc, Buffer.from(record.update, 'base64'))
    this.lastSeq = record.seq
    this.seqs.push(record.seq)
    this.lastStateVector = record.stateVector
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.abort.abort()
    await this.done
  }
}

/** Synthetic edits when the trace is absent: a text typed and trimmed at pseudo-random places. */
const syntheticTxns = (n: number): Array<{ patches: Patch[] }> => {
  let length = 0
  let x = 12345
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x
  }
  const txns: Array<{ patches: Patch[] }> = []
  for (let i = 0; i < n; i++) {
    const pos = length === 0 ? 0 : next() % length
    const del = length > 10 && next() % 4 === 0 ? Math.min(3, length - pos) : 0
    const ins = String.fromCharCode(97 + (next() % 26)).repeat(1 + (next() % 3))
    length += ins.length - del
    txns.push({ patches: [[pos, del, ins]] })
  }
  return txns
}

/**
 * Types `txns` into a client of a relay process, SIGKILLs the relay halfway and restarts
 * it, while a consumer follows the change feed; returns both ends for the checks.
 */
const typeThroughACrash = async (txns: Array<{ patches: Patch[] }>) => {
  const relay = await RelayProcess.start({ extraArgs: ['--admin-token', ADMIN] })
  cleanup.push(() => relay.dispose())
  const consumer = new Consumer(() => relay.httpUrl)
  cleanup.push(() => consumer.stop())
  const replica = new Replica()
  replica.connect(websocket(relay.url), { backoff: { initialDelay: 20, maxDelay: 200 } })
  cleanup.push(() => replica.destroy())
  const doc = await replica.open(DOC)
  const text = doc.getText('text')
  const half = Math.floor(txns.length / 2)
  for (let i = 0; i < txns.length; i++) {
    doc.transact(() => {
      for (const [pos, del, ins] of (txns[i] as { patches: Patch[] }).patches) {
        if (del > 0) text.delete(pos, del)
        if (ins.length > 0) text.insert(pos, ins)
      }
    })
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1))
    if (i === half) {
      // Let the consumer get some way, then kill the relay mid-stream.
      await waitFor(() => consumer.lastSeq > 0, { timeout: 20_000, what: 'the consumer to read records' })
      await relay.kill()
      await relay.start()
    }
  }
  await replica.whenSaved(DOC, { timeout: 60_000 })
  const latest = async () => {
    const res = await fetch(`${relay.httpUrl}/api/changes?since=${consumer.lastSeq}&follow=0`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })
    return (await res.text()).trim() === ''
  }
  await waitFor(latest, { timeout: 60_000, what: 'the consumer to reach the latest record' })
  const res = await fetch(`${relay.httpUrl}/api/docs/${DOC}/update`, { headers: { authorization: `Bearer ${ADMIN}` } })
  const relayDoc = new Y.Doc()
  Y.applyUpdate(relayDoc, new Uint8Array(await res.arrayBuffer()))
  await consumer.stop()
  return { consumer, relayDoc, clientText: text.toString() }
}

const checkEnds = ({ consumer, relayDoc, clientText }: Awaited<ReturnType<typeof typeThroughACrash>>) => {
  expect(consumer.reconnects).toBeGreaterThan(0)
  expect(consumer.seqs).toEqual(Array.from({ length: consumer.seqs.length }, (_, i) => i + 1))
  expect(consumer.doc.getText('text').toString()).toBe(relayDoc.getText('text').toString())
  expect(Y.encodeStateVector(consumer.doc)).toEqual(Y.encodeStateVector(relayDoc))
  expect(Buffer.from(consumer.lastStateVector, 'base64')).toEqual(Buffer.from(Y.encodeStateVector(relayDoc)))
  expect(relayDoc.getText('text').toString()).toBe(clientText)
}

const trace = readTrace('sveltecomponent', 'change-feed-crash')

describe('the change feed across a relay crash', () => {
  it('a consumer that resumes from its last sequence after a SIGKILL misses no record and rebuilds the document exactly (synthetic edits)', async () => {
    checkEnds(await typeThroughACrash(syntheticTxns(1_000)))
  }, 120_000)

  it.skipIf(trace === undefined)(
    'the same while a client types the sveltecomponent trace',
    async () => {
      const result = await typeThroughACrash(trace?.txns ?? [])
      checkEnds(result)
      expect(result.clientText).toBe(trace?.endContent)
    },
    180_000,
  )
})
