import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { LevelStore } from '@converge/level'
import * as prng from 'lib0/prng'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FileJournal } from '../../packages/relay/src/file-journal.js'
import { tempDir } from '../helpers/relay-process.js'
import { envInt, seedFor } from '../helpers/seed.js'

const CHILD = fileURLToPath(new URL('./append-child.mjs', import.meta.url))
const BUILT = fileURLToPath(new URL('../../packages/level/dist/index.js', import.meta.url))
const BUILT_JOURNAL = fileURLToPath(new URL('../../packages/relay/dist/file-journal.js', import.meta.url))
/** Kill-and-verify rounds on one database. */
const ROUNDS = envInt('CONVERGE_DURABILITY_ROUNDS', 10)
/** Documents the child writes at once. */
const DOCS = 4
/** Longest a round may take before the test gives up on the child. */
const ROUND_TIMEOUT_MS = 30_000

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** 'self': the child kills itself right after printing its Nth ack, in the same turn (its batch's LevelDB write still in flight). */
type KillPoint = { after: 'acks'; acks: number } | { after: 'ms'; ms: number } | { after: 'self'; acks: number }

/** Runs the child on `dir` until the kill point, kills it with SIGKILL, and returns every update it acknowledged. */
const runUntilKilled = (
  dir: string,
  seed: number,
  kill: KillPoint,
  journal: boolean,
): Promise<Array<[doc: string, update: Uint8Array]>> =>
  new Promise((resolve, reject) => {
    const selfKill = kill.after === 'self' ? String(kill.acks) : '0'
    const child = spawn(
      process.execPath,
      [CHILD, dir, String(seed), String(DOCS), journal ? 'journal' : 'none', selfKill],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const acks: Array<[string, Uint8Array]> = []
    let killed = kill.after === 'self'
    let stderr = ''
    let pending = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the child did not reach its kill point within ${ROUND_TIMEOUT_MS} ms; stderr: ${stderr}`))
    }, ROUND_TIMEOUT_MS)
    const killNow = () => {
      if (killed) return
      killed = true
      child.kill('SIGKILL')
    }
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'ready') {
          if (kill.after === 'ms') setTimeout(killNow, kill.ms)
          continue
        }
        const [tag, doc, base64] = line.split(' ')
        if (tag !== 'ack' || doc === undefined || base64 === undefined) continue
        acks.push([doc, new Uint8Array(Buffer.from(base64, 'base64'))])
        if (kill.after === 'acks' && acks.length >= kill.acks) killNow()
      }
    })
    // 'close' comes after stdout ended: every ack printed before the kill has been read.
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal === 'SIGKILL' && killed) resolve(acks)
      else reject(new Error(`the child exited by itself (code ${code}, signal ${signal}); stderr: ${stderr}`))
    })
  })

/** Applies each update to `doc` and counts those that changed it: an update the store kept changes nothing. */
const missingFrom = (doc: Y.Doc, updates: Uint8Array[]): number => {
  let changed = 0
  const count = () => {
    changed++
  }
  doc.on('update', count)
  for (const u of updates) Y.applyUpdate(doc, u)
  doc.off('update', count)
  return changed
}

describe.each([
  ['', false],
  [' with the relay journal (appends resolve before their LevelDB write) and a change log', true],
])('LevelStore in a process killed with SIGKILL%s', (_, journal) => {
  it('loses no acknowledged update, whatever the kill point during appends and compactions', async () => {
    expect(existsSync(BUILT), `the child runs the built package: run npx tsc -b packages/core packages/level`).toBe(
      true,
    )
    if (journal)
      expect(existsSync(BUILT_JOURNAL), 'the child runs the built relay package: run npm run build').toBe(true)
    const seed = seedFor(journal ? 'durability, journal' : 'durability', import.meta.url, {
      CONVERGE_DURABILITY_ROUNDS: ROUNDS,
    })
    const gen = prng.create(seed)
    const dir = await tempDir('durability')
    dirs.push(dir)
    const acked = new Map<string, Uint8Array[]>()
    for (let round = 0; round < ROUNDS; round++) {
      const way = prng.uint32(gen, 0, 2)
      const kill: KillPoint =
        way === 0
          ? { after: 'acks', acks: prng.int32(gen, 1, 3000) }
          : way === 1
            ? { after: 'ms', ms: prng.int32(gen, 0, 1500) }
            : { after: 'self', acks: prng.int32(gen, 1, 3000) }
      const acks = await runUntilKilled(dir, prng.uint32(gen, 1, 0x7fffffff), kill, journal)
      for (const [doc, update] of acks) acked.set(doc, [...(acked.get(doc) ?? []), update])

      // The journal is read at open (a relay's, and every command's), whether appends use it or not.
      const store = new LevelStore(dir, {
        autoCompact: false,
        ...(journal ? { journal: FileJournal.in(dir), maxJournalBatchBytes: 0, changeLog: true } : {}),
      })
      await store.open()
      const listed = await store.list()
      for (const [doc, updates] of acked) {
        const what = `round ${round} (${JSON.stringify(kill)}, seed ${seed}), ${doc}`
        expect(listed, `${what}: not listed`).toContain(doc)
        const ydoc = new Y.Doc()
        Y.applyUpdate(ydoc, (await store.load(doc)) ?? new Uint8Array([0, 0]))
        expect(await store.stateVector(doc), `${what}: stored state vector`).toEqual(Y.encodeStateVector(ydoc))
        expect(missingFrom(ydoc, updates), `${what}: acknowledged updates missing after the kill`).toBe(0)
        ydoc.destroy()
      }
      if (journal) {
        // The change log has one record per acknowledged update at least, numbered without a gap or a repeat.
        const { oldest, latest } = (await store.changes?.bounds()) ?? { oldest: 0, latest: 0 }
        const records = (await store.changes?.read(oldest - 1, latest - oldest + 1)) ?? []
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: latest - oldest + 1 }, (_, i) => oldest + i))
        expect(records.length).toBeGreaterThanOrEqual([...acked.values()].flat().length)
      }
      await store.close()
    }
    expect([...acked.values()].flat().length).toBeGreaterThan(0)
  })
})
