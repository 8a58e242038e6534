export type { AppendJournal } from './journal.js'
export { decodeEntry, decodeRecord, encodeRecord, LevelChangeLog } from './level-change-log.js'
export { type AnyLevel, LevelStore, type LevelStoreOptions, type LevelStoreStats } from './level-store.js'
