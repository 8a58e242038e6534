/**
 * Internals of a Replica that its own package's tests inspect (not exported from index.ts,
 * so not part of the published API).
 */
import type { DocumentRouter } from './document-router.js'

/** Each replica's document router. */
export const routerOf = new WeakMap<object, DocumentRouter>()
