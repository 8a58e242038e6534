/**
 * Limits on what one message from a peer may ask of this side, checked on its bytes
 * before any of it is decoded into maps or applied. Each limit blocks a measured attack:
 * an 11 MiB state vector of 1.5 M entries took 1.2 s to answer and 538 MiB of memory;
 * 38 MiB of awareness from one read-only client reached every reader of the document.
 */
import * as decoding from 'lib0/decoding'
import { ConvergeError } from './errors.js'
import type { Message } from './messages.js'
import { malformed } from './sync-codec.js'
import { WorkBudget } from './work-budget.js'

export interface MessageLimits {
  /** Most entries (clients) in a state vector a peer sends. */
  maxStateVectorEntries: number
  /** Most units of work one message may ask for (see WorkBudget). */
  maxMessageWork: number
  /** Largest awareness state (its JSON), in bytes. */
  maxAwarenessStateBytes: number
}

/** The defaults, for the peer options of the same names. */
export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
  maxStateVectorEntries: 100_000,
  maxMessageWork: 1_000_000,
  maxAwarenessStateBytes: 64 * 1024,
}

const exceeded = (message: string) => new ConvergeError('CONVERGE_LIMIT_EXCEEDED', message)

/** Charges a state vector's entries, refusing more than the limit before any is decoded. */
const chargeStateVector = (bytes: Uint8Array, limits: MessageLimits, budget: WorkBudget): void => {
  const entries = decoding.readVarUint(decoding.createDecoder(bytes))
  if (entries > limits.maxStateVectorEntries) {
    throw exceeded(`a state vector of ${entries} entries (most ${limits.maxStateVectorEntries})`)
  }
  // Each entry takes at least 2 bytes: a larger count is a lie.
  if (entries * 2 > bytes.length) throw malformed(new Error('state vector count exceeds its bytes'))
  budget.spend(entries)
}

/** Charges delete digests: one unit per client and per chunk. */
const chargeDeleteDigests = (bytes: Uint8Array, budget: WorkBudget): void => {
  const decoder = decoding.createDecoder(bytes)
  const clients = decoding.readVarUint(decoder)
  budget.spend(clients)
  for (let i = 0; i < clients; i++) {
    decoding.readVarUint(decoder)
    decoding.readVarUint(decoder)
    const length = decoding.readVarUint(decoder)
    budget.spend(Math.ceil(length / 8))
    decoder.pos += length
    if (decoder.pos > bytes.length) throw malformed(new Error('delete digests exceed their bytes'))
  }
}

/** Charges an awareness update: one unit per state; refuses a state over the size limit. */
const chargeAwareness = (bytes: Uint8Array, limits: MessageLimits, budget: WorkBudget): void => {
  const decoder = decoding.createDecoder(bytes)
  const count = decoding.readVarUint(decoder)
  if (count * 3 > bytes.length) throw malformed(new Error('awareness count exceeds its bytes'))
  budget.spend(count)
  for (let i = 0; i < count; i++) {
    decoding.readVarUint(decoder) // client
    decoding.readVarUint(decoder) // clock
    const length = decoding.readVarUint(decoder)
    if (length > limits.maxAwarenessStateBytes) {
      throw exceeded(`an awareness state of ${length} bytes (most ${limits.maxAwarenessStateBytes})`)
    }
    decoder.pos += length
    if (decoder.pos > bytes.length) throw malformed(new Error('awareness state exceeds its bytes'))
  }
}

/**
 * Throws CONVERGE_LIMIT_EXCEEDED when a decoded message asks for more than `limits` allow,
 * CONVERGE_MALFORMED_MESSAGE when its counts lie about its bytes. Runs in time linear in the
 * message's entries, without building anything.
 */
export const checkMessageLimits = (m: Message, limits: MessageLimits): void => {
  const budget = new WorkBudget(limits.maxMessageWork, `a ${m.type} message`)
  try {
    switch (m.type) {
      case 'sync-step1':
      case 'saved':
        chargeStateVector(m.stateVector, limits, budget)
        return
      case 'sync-step1-deletes':
        chargeStateVector(m.stateVector, limits, budget)
        chargeDeleteDigests(m.deleteDigests, budget)
        return
      case 'awareness':
        chargeAwareness(m.update, limits, budget)
        return
      default:
        return
    }
  } catch (err) {
    throw malformed(err)
  }
}
