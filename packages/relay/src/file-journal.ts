/**
 * The relay's append journal (see @converge/level's journal.ts): one file in the data
 * directory, `converge-journal`, opened once LevelDB holds the directory's lock. Each
 * record is framed as a uint32 length and a CRC-32 of the payload (little-endian), then
 * the payload, and written with one synchronous `write`: a record is whole in the page
 * cache when `append` returns. Reading stops at the first frame that is short or fails its
 * check (a write the process never finished, so never acknowledged).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { AppendJournal } from '@converge/level'

/** The journal's file name inside a data directory. */
export const JOURNAL_FILE = 'converge-journal'

const HEADER = 8

export class FileJournal implements AppendJournal {
  private fd: number | undefined
  private written = 0

  constructor(private readonly path: string) {}

  /** The journal of data directory `dir`. */
  static in(dir: string): FileJournal {
    return new FileJournal(join(dir, JOURNAL_FILE))
  }

  get bytes(): number {
    return this.written
  }

  read(): Uint8Array[] {
    const file = this.file()
    const data = readFileSync(this.path)
    const records: Uint8Array[] = []
    let at = 0
    while (at + HEADER <= data.length) {
      const length = data.readUInt32LE(at)
      const check = data.readUInt32LE(at + 4)
      if (at + HEADER + length > data.length) break
      const payload = data.subarray(at + HEADER, at + HEADER + length)
      if (crc32(payload) !== check) break
      records.push(new Uint8Array(payload))
      at += HEADER + length
    }
    this.written = fstatSync(file).size
    return records
  }

  append(record: Uint8Array): void {
    const frame = Buffer.allocUnsafe(HEADER + record.length)
    frame.writeUInt32LE(record.length, 0)
    frame.writeUInt32LE(crc32(record), 4)
    frame.set(record, HEADER)
    const file = this.file()
    let done = 0
    while (done < frame.length) done += writeSync(file, frame, done, frame.length - done)
    this.written += frame.length
  }

  reset(): void {
    ftruncateSync(this.file(), 0)
    this.written = 0
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private file(): number {
    // Append mode: every write goes to the end, after a truncation too. Owner-only, as the data directory.
    this.fd ??= openSync(this.path, 'a+', 0o600)
    return this.fd
  }
}
