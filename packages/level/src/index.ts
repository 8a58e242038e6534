export { type AnyLevel, LevelStore, type LevelStoreOptions } from './level-store.js'
