/**
 * Every message converge sends, as a discriminated union. The y-protocols family
 * (sync, awareness, auth, query-awareness) travels in both framings; the control
 * messages (hello, subscribe, unsubscribe, saved, stateless, inventory-summary, inventory, error, ping,
 * pong)
 * travel only in converge.v1. PROTOCOL.md gives the bytes.
 */

/** Message type numbers, the first varUint after the document name. */
export const MessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
  hello: 16,
  subscribe: 17,
  unsubscribe: 18,
  saved: 19,
  inventory: 20,
  error: 21,
  ping: 22,
  pong: 23,
  inventorySummary: 24,
  syncStep1Deletes: 25,
  stateless: 26,
} as const

/** Sub-types of a sync message, as in y-protocols/sync. */
export const SyncType = { step1: 0, step2: 1, update: 2 } as const

/** The role a peer announces in its hello. */
export type PeerRole = 'client' | 'relay'

export interface SyncStep1Message {
  type: 'sync-step1'
  doc: string
  stateVector: Uint8Array
}
/**
 * converge.v1's sync step 1: the state vector plus digests of the sender's delete set (see
 * delete-set-chunks.ts), so the step 2 in answer carries only the deletions it lacks.
 */
export interface SyncStep1DeletesMessage {
  type: 'sync-step1-deletes'
  doc: string
  stateVector: Uint8Array
  deleteDigests: Uint8Array
}
export interface SyncStep2Message {
  type: 'sync-step2'
  doc: string
  update: Uint8Array
}
export interface UpdateMessage {
  type: 'update'
  doc: string
  update: Uint8Array
}
export interface AwarenessMessage {
  type: 'awareness'
  doc: string
  update: Uint8Array
}
export interface QueryAwarenessMessage {
  type: 'query-awareness'
  doc: string
}
/** y-protocols auth: the only sub-type is "permission denied". */
export interface AuthDeniedMessage {
  type: 'auth-denied'
  doc: string
  reason: string
}
export interface HelloMessage {
  type: 'hello'
  version: number
  peerId: string
  role: PeerRole
  token: string
}
export interface SubscribeMessage {
  type: 'subscribe'
  doc: string
}
export interface UnsubscribeMessage {
  type: 'unsubscribe'
  doc: string
}
/**
 * The sender has made durable every update-carrying message it received on this
 * document up to and including number `seq`, and its durable state is `stateVector`.
 */
export interface SavedMessage {
  type: 'saved'
  doc: string
  seq: number
  stateVector: Uint8Array
}
export interface InventoryEntry {
  doc: string
  /** A digest of the document's state vector and delete set (see state-digest.ts). */
  digest: Uint8Array
}
/**
 * The sender's documents in 2^bucketBits buckets: one 8-byte digest per bucket (see
 * inventory.ts). The first round of anti-entropy.
 */
export interface InventorySummaryMessage {
  type: 'inventory-summary'
  bucketBits: number
  digests: Uint8Array
}
/**
 * One page of the sender's entries for the buckets (under the receiver's bucketBits) whose
 * digests differ; `buckets` is on the first page, `final` marks the last.
 */
export interface InventoryMessage {
  type: 'inventory'
  bucketBits: number
  buckets: number[]
  entries: InventoryEntry[]
  final: boolean
}
export interface ErrorMessage {
  type: 'error'
  /** The document concerned, or '' for the connection. */
  doc: string
  code: string
  message: string
}
/** An app-defined message about a document (relay extensions' onStateless); converge.v1 only. */
export interface StatelessMessage {
  type: 'stateless'
  doc: string
  payload: string
}
export interface PingMessage {
  type: 'ping'
}
export interface PongMessage {
  type: 'pong'
}

export type DocMessage =
  | SyncStep1Message
  | SyncStep1DeletesMessage
  | SyncStep2Message
  | UpdateMessage
  | AwarenessMessage
  | QueryAwarenessMessage
  | AuthDeniedMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | SavedMessage
  | StatelessMessage

export type ControlMessage =
  | HelloMessage
  | InventorySummaryMessage
  | InventoryMessage
  | ErrorMessage
  | PingMessage
  | PongMessage

export type Message = DocMessage | ControlMessage

/** The y-protocols family: what a stock y-websocket peer understands. */
export type YMessage =
  | SyncStep1Message
  | SyncStep2Message
  | UpdateMessage
  | AwarenessMessage
  | QueryAwarenessMessage
  | AuthDeniedMessage

export const isDocMessage = (m: Message): m is DocMessage => 'doc' in m && m.type !== 'error'

/** Messages that carry document content (persisted, counted for `saved`). */
export const carriesUpdate = (m: Message): m is SyncStep2Message | UpdateMessage =>
  m.type === 'sync-step2' || m.type === 'update'
