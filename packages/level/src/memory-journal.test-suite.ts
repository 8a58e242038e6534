/** Test helper: an AppendJournal in memory (shared by the LevelStore and relay tests). */
import type { AppendJournal } from './journal.js'

/** A journal in memory: what a file would hold, kept across "processes". */
export class MemoryJournal implements AppendJournal {
  records: Uint8Array[] = []
  resets = 0
  get bytes() {
    return this.records.reduce((n, r) => n + r.length, 0)
  }
  read() {
    return [...this.records]
  }
  append(record: Uint8Array) {
    this.records.push(record)
  }
  reset() {
    this.records = []
    this.resets++
  }
  close() {}
}
