/**
 * Encode once, send many. A message that goes alike to many links (a document's update or
 * presence change, a shared sync answer) is one object, made by `sharedMessage`, and each
 * framing encodes it once: every socket of that framing is handed the same bytes. Frames
 * are never written to after encoding, so sharing them is safe.
 */
import type { FrameStrategy, FramingName } from './framing.js'
import type { AwarenessMessage, Message, SyncStep2Message, UpdateMessage } from './messages.js'
import { WeakCache } from './weak-cache.js'

/** The messages one document sends alike to many sessions. */
export type SharedMessage = UpdateMessage | AwarenessMessage | SyncStep2Message

/** The frames of a shared message, per framing (null: the framing does not carry it). */
type Frames = { [K in FramingName]?: Uint8Array | null }

/** The message made for a payload, so every session sending that payload sends one object (a small table: see WeakCache). */
const byPayload = new WeakCache<Uint8Array, SharedMessage>()
/**
 * A shared message carries its frames itself (under this key) rather than in a second
 * WeakMap keyed by message: a WeakMap's table grows to the most entries it ever held at
 * once and keeps that size after the garbage collector empties it (only a `delete` shrinks
 * it), so a side table would keep a peak's worth of memory after the documents unloaded.
 */
const FRAMES = Symbol('frames')
type WithFrames = { [FRAMES]?: Frames }

/** The one message object carrying `payload` as `type` on `doc` (made on first use). */
export const sharedMessage = (type: SharedMessage['type'], doc: string, payload: Uint8Array): SharedMessage => {
  const known = byPayload.get(payload)
  if (known !== undefined && known.type === type && known.doc === doc) return known
  const m: SharedMessage & WithFrames = { type, doc, update: payload, [FRAMES]: {} }
  byPayload.set(payload, m)
  return m
}

/** The frame of `m` in `framing`: encoded once per framing for a shared message, else each time. */
export const encodeFrame = (framing: FrameStrategy, m: Message): Uint8Array | undefined => {
  const frames = (m as Message & WithFrames)[FRAMES]
  if (frames === undefined) return framing.encode(m)
  const cached = frames[framing.name]
  if (cached !== undefined) return cached ?? undefined
  const frame = framing.encode(m)
  frames[framing.name] = frame ?? null
  return frame
}
