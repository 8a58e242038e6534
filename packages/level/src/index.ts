export { type AnyLevel, LevelStore, type LevelStoreOptions, type LevelStoreStats } from './level-store.js'
