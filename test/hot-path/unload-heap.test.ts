/**
 * Unload, on the heap of a real relay process (the CLI, LevelDB on disk, stock y-websocket
 * clients): documents opened, edited, shared with presence and unloaded again leave the
 * relay's live heap (after a full GC) where it was, per document. Not timed: it compares
 * heap readings (heap-probe.mjs), so a per-document or per-connection leak fails it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { HEAP_PROBE_ARGS, RelayProcess } from '../helpers/relay-process.js'
import { stockProvider } from '../helpers/stock-provider.js'
import { waitFor } from '../helpers/wait.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Documents per round; each is opened by two clients. */
const DOCS = 300
/** Documents opened at once. */
const CONCURRENCY = 25
/** Rounds that reopen the same documents after the first. (Five rounds of 600 clients: ~15 s alone, ~35 s beside other tests.) */
const REOPENS = 3
/**
 * Most live heap (compiled code aside) reopening the same documents may leave behind per
 * document, in bytes, in the least of the rounds. Without a leak a round leaves up to
 * ~0.2 MiB (type feedback, bytecode, V8 still optimising; it does not grow with the number
 * of documents): measured −376 to +661 B/doc per round on a quiet machine (the least of
 * three ≤ 341) and +426 to +510 in all three at load average 8–12. A leak grows the heap
 * in every round: the upgrade request kept per connection (the leak fixed before)
 * measured +4.7–5.3 KiB/doc here.
 */
const BOUND_PER_DOC = 1024
/** The same for new documents (one round, so a looser bound; measured +580–780 B/doc without a leak). */
const BOUND_PER_NEW_DOC = 1536

/** Documents in memory: loaded (a Y.Doc) or served cold (relay --cold-docs). */
const docsLoaded = async (relay: RelayProcess): Promise<number> => {
  const text = await (await fetch(`${relay.httpUrl}/metrics`)).text()
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0)
  return gauge('converge_docs_loaded') + gauge('converge_docs_cold')
}

/**
 * One round: every document of `names` opened by two stock clients (the first writes,
 * both share presence), both in sync, then both leave; resolves once the relay has
 * unloaded them all (its gauge back at `loaded`), with its heap after a full GC.
 */
const round = async (relay: RelayProcess, names: string[], loaded: number) => {
  const clients: Array<() => void> = []
  for (let i = 0; i < names.length; i += CONCURRENCY) {
    await Promise.all(
      names.slice(i, i + CONCURRENCY).map(async (name) => {
        const own: Array<() => void> = []
        const [a, b] = [0, 1].map(() => stockProvider(own, relay.url, name, { disableBc: true }))
        if (a === undefined || b === undefined) throw new Error('two clients')
        clients.push(...own.map((c) => () => void c()))
        a.doc.getText('t').insert(0, `${name}: ${'text of the document; '.repeat(20)}`)
        a.provider.awareness.setLocalStateField('cursor', { index: 1 })
        b.provider.awareness.setLocalStateField('cursor', { index: 2 })
        await waitFor(() => b.doc.getText('t').toString() === a.doc.getText('t').toString(), {
          timeout: 30_000,
          what: `${name} to reach the second client`,
        })
        await waitFor(() => a.provider.awareness.getStates().size === 2, { what: `${name}'s presence` })
      }),
    )
  }
  for (const close of clients) close()
  await waitFor(async () => (await docsLoaded(relay)) <= loaded, {
    timeout: 30_000,
    interval: 50,
    what: 'the relay to unload every document',
  })
  // Without the compiled code, which grows as the JIT optimises more, whatever is kept alive.
  const h = await relay.heapAfterGc()
  return h.heapUsed - h.codeUsed
}

const names = (prefix: string) => Array.from({ length: DOCS }, (_, i) => `${prefix}-${i}`)

describe('unload, on the relay heap', () => {
  it('opening and unloading the same documents again leaves the relay heap flat (within a small bound per document), and so do new documents', async () => {
    const relay = await RelayProcess.start({ nodeArgs: HEAP_PROBE_ARGS, extraArgs: ['--unload-delay', '50'] })
    cleanups.push(() => relay.dispose())
    const loaded = await docsLoaded(relay)
    expect(Number.isFinite(loaded)).toBe(true)
    // Warm-up: the code paths of creating and of reloading a document run (JIT, caches).
    await round(relay, names('warm'), loaded)
    const warm = await round(relay, names('warm'), loaded)
    // New documents, then the same ones again and again (loaded from the store).
    const created = await round(relay, names('doc'), loaded)
    const growth: number[] = []
    let last = created
    for (let i = 0; i < REOPENS; i++) {
      const now = await round(relay, names('doc'), loaded)
      growth.push(Math.round((now - last) / DOCS))
      last = now
    }
    const newDocs = Math.round((created - warm) / DOCS)
    console.log(
      `relay heap after a full GC (code aside): warm ${warm} B; new documents +${newDocs} B/doc (bound ${BOUND_PER_NEW_DOC}); each reopening ${growth.map((g) => `${g >= 0 ? '+' : ''}${g}`).join(', ')} B/doc (bound on the least: ${BOUND_PER_DOC})`,
    )
    expect(newDocs).toBeLessThanOrEqual(BOUND_PER_NEW_DOC)
    expect(Math.min(...growth)).toBeLessThanOrEqual(BOUND_PER_DOC)
  }, 180_000)
})
