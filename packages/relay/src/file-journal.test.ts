import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FileJournal, JOURNAL_FILE } from './file-journal.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'converge-journal-'))
  dirs.push(dir)
  return dir
}
const bytes = (...b: number[]) => new Uint8Array(b)

describe('FileJournal', () => {
  it('reads back what it wrote, in order, in another instance; reset empties the file', async () => {
    const dir = await tempDir()
    const j = FileJournal.in(dir)
    j.append(bytes(1, 2, 3))
    j.append(bytes())
    j.append(bytes(4))
    expect(j.bytes).toBe(8 * 3 + 4)
    const other = FileJournal.in(dir)
    expect(other.read()).toEqual([bytes(1, 2, 3), bytes(), bytes(4)])
    expect(other.bytes).toBe(28)
    j.reset()
    expect(readFileSync(join(dir, JOURNAL_FILE)).length).toBe(0)
    j.append(bytes(9))
    expect(FileJournal.in(dir).read()).toEqual([bytes(9)])
    j.close()
    other.close()
  })

  it('stops at a torn or damaged record: what follows it is never read', async () => {
    const dir = await tempDir()
    const file = join(dir, JOURNAL_FILE)
    const j = FileJournal.in(dir)
    j.append(bytes(1, 2, 3))
    j.append(bytes(4, 5))
    j.close()
    const whole = readFileSync(file)
    // A record cut short (the process died inside its write).
    writeFileSync(file, whole.subarray(0, whole.length - 1))
    expect(FileJournal.in(dir).read()).toEqual([bytes(1, 2, 3)])
    // A record whose bytes do not match its check, then a good one after it.
    const damaged = Buffer.from(whole)
    damaged[8] = 99
    writeFileSync(file, damaged)
    expect(FileJournal.in(dir).read()).toEqual([])
    // A length beyond the file.
    writeFileSync(file, whole)
    appendFileSync(file, Buffer.from([255, 255, 255, 127, 0, 0, 0, 0, 1]))
    expect(FileJournal.in(dir).read()).toEqual([bytes(1, 2, 3), bytes(4, 5)])
  })
})
