import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { LevelStore } from '@converge/level'
import * as prng from 'lib0/prng'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { tempDir } from '../helpers/relay-process.js'
import { envInt, seedFor } from '../helpers/seed.js'

const CHILD = fileURLToPath(new URL('./append-child.mjs', import.meta.url))
const BUILT = fileURLToPath(new URL('../../packages/level/dist/index.js', import.meta.url))
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

type KillPoint = { after: 'acks'; acks: number } | { after: 'ms'; ms: number }

/** Runs the child on `dir` until the kill point, kills it with SIGKILL, and returns every update it acknowledged. */
const runUntilKilled = (
  dir: string,
  seed: number,
  kill: KillPoint,
): Promise<Array<[doc: string, update: Uint8Array]>> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed), String(DOCS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const acks: Array<[string, Uint8Array]> = []
    let killed = false
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

describe('LevelStore in a process killed with SIGKILL', () => {
  it('loses no acknowledged update, whatever the kill point during appends and compactions', async () => {
    expect(existsSync(BUILT), `the child runs the built package: run npx tsc -b packages/core packages/level`).toBe(
      true,
    )
    const seed = seedFor('durability', import.meta.url, { CONVERGE_DURABILITY_ROUNDS: ROUNDS })
    const gen = prng.create(seed)
    const dir = await tempDir('durability')
    dirs.push(dir)
    const acked = new Map<string, Uint8Array[]>()
    for (let round = 0; round < ROUNDS; round++) {
      const kill: KillPoint = prng.bool(gen)
        ? { after: 'acks', acks: prng.int32(gen, 1, 3000) }
        : { after: 'ms', ms: prng.int32(gen, 0, 1500) }
      const acks = await runUntilKilled(dir, prng.uint32(gen, 1, 0x7fffffff), kill)
      for (const [doc, update] of acks) acked.set(doc, [...(acked.get(doc) ?? []), update])

      const store = new LevelStore(dir, { autoCompact: false })
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
      await store.close()
    }
    expect([...acked.values()].flat().length).toBeGreaterThan(0)
  })
})
