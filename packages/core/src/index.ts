export { type Access, fullAccess, readOnlyAccess } from './access.js'
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js'
export { BroadcastChannelTransport, broadcastChannel } from './broadcast-channel-transport.js'
export { CloseCode, type CloseCodeValue, isFatalCloseCode } from './close-codes.js'
export { definedOnly } from './defined-only.js'
export { assertDocName, isValidDocName, MAX_DOC_NAME_LENGTH } from './doc-name.js'
export { ConvergeError, type ErrorCode, isConvergeError } from './errors.js'
export { FailedTurn } from './failed-turn.js'
export { type MemoryLink, MemoryNetwork, type MemoryNetworkOptions } from './memory-network.js'
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js'
export * from './messages.js'
export { decodeMuxFrame, encodeMuxFrame, MUX_PROTOCOL, PROTOCOL_VERSION } from './mux-codec.js'
export { nextTurn, onNextTurn } from './next-turn.js'
export {
  type AcceptOptions,
  DEFAULT_PEER_OPTIONS,
  type Framing,
  Peer,
  type PeerOptions,
  type PeerStatus,
} from './peer.js'
export { type DocStatus, Replica, type ReplicaOptions } from './replica.js'
export { DEFAULT_REPLICA_OPTIONS } from './replica-defaults.js'
export type { ReplicaObserver } from './replica-observer.js'
export { digestOfDoc, digestOfUpdate, EMPTY_STATE_VECTOR, EMPTY_UPDATE, equalBytes } from './state-digest.js'
export type { Store, StoreStats } from './store.js'
export type { Connector, Transport, TransportHandler, TransportState } from './transport.js'
export { decodeYWebsocketFrame, encodeYWebsocketFrame } from './y-websocket-codec.js'
