/**
 * The process the durability test kills. It opens a LevelStore (the built package) on a
 * directory, loads each document, and appends random edits to all of them at once, with
 * compaction settings so aggressive that compactions run all the time. For every append
 * that resolves it prints one line, `ack <doc> <base64 update>`, so the test knows exactly
 * which updates were acknowledged before it sent SIGKILL.
 *
 *   node test/durability/append-child.mjs <dir> <seed> <docs> [journal|none] [N]
 *
 * With N > 0 it kills itself with SIGKILL right after printing its Nth ack, in the turn
 * the append resolved (with the journal, before that batch's LevelDB write ends).
 *
 * With `journal`: the relay's journal file (appends resolve once journaled, before their
 * LevelDB write) and a change log, as a relay runs it.
 * Plain JavaScript: Node 20 runs it without a build step of its own (it needs
 * `npx tsc -b packages/core packages/level`).
 */
import { LevelStore } from '@converge/level'
import * as Y from 'yjs'
import { FileJournal } from '../../packages/relay/dist/file-journal.js'

const [dir, seedArg, docsArg, journalArg, selfKillArg] = process.argv.slice(2)
const selfKillAt = Number(selfKillArg ?? 0)
let acks = 0
if (dir === undefined) throw new Error('usage: append-child.mjs <dir> <seed> <docs>')

let state = Number(seedArg ?? 1) >>> 0
/** mulberry32: small, seeded, good enough to pick edits. */
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const store = new LevelStore(dir, {
  ...(journalArg === 'journal' ? { journal: FileJournal.in(dir), changeLog: true } : {}),
  compactMinUpdates: 8,
  compactRatio: 0,
  compactMaxLogBytes: 2048,
  reclaimAfterBytes: 8192,
  // A background failure here is a bug the test must see: print it and die.
  onError: (err) => {
    process.stderr.write(`store error: ${err.message}\n`)
    process.exit(3)
  },
})
await store.open()

const docs = Array.from({ length: Number(docsArg ?? 4) }, (_, i) => `doc-${i}`)

const writeDoc = async (name) => {
  const doc = new Y.Doc()
  // A fresh client id per run: a killed run may have used clocks it never made durable.
  doc.clientID = 1 + Math.floor(random() * 0x7ffffffe)
  const stored = await store.load(name)
  if (stored !== undefined) Y.applyUpdate(doc, stored)
  const text = doc.getText('text')
  const inFlight = new Set()
  for (;;) {
    const update = await new Promise((resolve) => {
      doc.once('update', resolve)
      if (text.length > 0 && random() < 0.3) {
        const at = Math.floor(random() * text.length)
        text.delete(at, Math.min(text.length - at, 1 + Math.floor(random() * 5)))
      } else {
        const word =
          random()
            .toString(36)
            .slice(2, 4 + Math.floor(random() * 8)) || 'x'
        text.insert(Math.floor(random() * (text.length + 1)), word)
      }
    })
    const appended = store.append(name, update).then(() => {
      // Pipes are written synchronously on Linux: the line is out before the kill.
      process.stdout.write(`ack ${name} ${Buffer.from(update).toString('base64')}\n`)
      if (++acks === selfKillAt) process.kill(process.pid, 'SIGKILL')
    })
    inFlight.add(appended)
    appended.finally(() => inFlight.delete(appended))
    // Up to 32 appends in flight per document, so batches hold several documents and updates.
    if (inFlight.size >= 1 + Math.floor(random() * 32)) await Promise.race(inFlight)
    if (random() < 0.002) await store.compact(name)
  }
}

process.stdout.write('ready\n')
await Promise.all(docs.map(writeDoc))
