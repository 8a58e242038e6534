/**
 * Plans of fuzzing sockets: which framing, which document, and the frames (valid or
 * mutated) each sends, all from one seeded PRNG per socket so any socket replays alone.
 */
import * as prng from 'lib0/prng'
import { concatenate, mutate } from './frame-mutations.js'
import { type FuzzFraming, hello, layOut, validFrame } from './fuzz-frames.js'
import type { PlannedFrame, SocketPlan } from './fuzz-socket.js'

export interface PlanOptions {
  /** Share of frames that are mutated (the rest are valid). */
  mutationRate: number
  /** Share of hellos that are mutated (converge.v1). */
  helloMutationRate: number
  /** Share of converge.v1 sockets that claim to be a relay (a mesh link). */
  relayRoleRate: number
  /** Share of frames replaced by one just over `maxMessageBytes`. */
  oversizedRate: number
  /** The relay's frame limit. */
  maxMessageBytes: number
  /** Most frames per socket (the relay usually closes it sooner). */
  maxFrames: number
  /** Most frames between two probes. */
  maxChunk: number
}

/** The PRNG of socket `index` in the run seeded with `seed`. */
export const socketRng = (seed: number, index: number) => prng.create(seed * 1_000_003 + index + 1)

/** A socket's plan; its frames address `docs`. */
export const planSocket = (rng: prng.PRNG, o: PlanOptions, docs: string[]): SocketPlan => {
  const framing: FuzzFraming = prng.bool(rng) ? 'converge.v1' : 'y-websocket'
  const doc = prng.oneOf(rng, docs)
  let helloFrame: PlannedFrame | undefined
  if (framing === 'converge.v1') {
    const laid = layOut(hello(rng, prng.real53(rng) < o.relayRoleRate ? 'relay' : 'client'), framing)
    helloFrame =
      prng.real53(rng) < o.helloMutationRate
        ? (({ data, asText, mutation }) => ({ data, asText, label: `hello/${mutation}` }))(mutate(rng, laid, framing))
        : { data: laid.bytes, label: 'hello' }
  }
  const frames: PlannedFrame[] = []
  const count = prng.int32(rng, 1, o.maxFrames)
  for (let i = 0; i < count; i++) {
    const frame = validFrame(rng, framing, docs, doc)
    const r = prng.real53(rng)
    if (r < o.oversizedRate) {
      frames.push({ data: prng.uint8Array(rng, o.maxMessageBytes + prng.int32(rng, 1, 1024)), label: 'oversized' })
    } else if (r < o.oversizedRate + o.mutationRate * 0.05) {
      const m = concatenate(frame, validFrame(rng, framing, docs, doc))
      frames.push({ data: m.data, label: `${frame.label}/${m.mutation}` })
    } else if (r < o.oversizedRate + o.mutationRate) {
      const m = mutate(rng, frame, framing)
      frames.push({ data: m.data, asText: m.asText, label: `${frame.label}/${m.mutation}` })
    } else {
      frames.push({ data: frame.bytes, label: frame.label })
    }
  }
  const chunks: PlannedFrame[][] = []
  for (let i = 0; i < frames.length; ) {
    const n = prng.int32(rng, 1, o.maxChunk)
    chunks.push(frames.slice(i, i + n))
    i += n
  }
  return { framing, doc, hello: helloFrame, chunks }
}
