import fc from 'fast-check'
import type { ClusterShape } from './cluster.js'

/** The whole cluster has at most this many replicas (relays and clients). */
export const MAX_REPLICAS = 6

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })
const unloadDelay = fc.constantFrom(0, 5, 1_000)
/** Mostly on, as by default; off keeps deleted content, which must converge all the same. */
const gc = fc.array(
  fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  {
    minLength: MAX_REPLICAS,
    maxLength: MAX_REPLICAS,
  },
)

/** One relay and `clients` clients that all dial it. */
export const starShape = (clients: { min: number; max: number }): fc.Arbitrary<ClusterShape> =>
  fc.record({ clients: fc.integer(clients), unloadDelay, gc, seed }).map(
    (s): ClusterShape => ({
      ...s,
      relays: 1,
      meshLinks: [],
      clientLinks: Array.from({ length: s.clients }, () => [0]),
    }),
  )

/**
 * Relays linked into a connected mesh, clients spread over them. The mesh is a random
 * spanning tree plus extra links, so it often has cycles; a pair may be linked in both
 * directions (two connections between the same relays). A client dials one relay or two.
 */
export const meshShape = (relays: { min: number; max: number }): fc.Arbitrary<ClusterShape> =>
  fc
    .integer(relays)
    .chain((r) =>
      fc.record({
        relays: fc.constant(r),
        clients: fc.integer({ min: 1, max: MAX_REPLICAS - r }),
        // relay i > 0 hangs off a relay before it: connected whatever the draw.
        tree: fc.tuple(...Array.from({ length: r - 1 }, (_, i) => fc.tuple(fc.nat({ max: i }), fc.boolean()))),
        extra: fc.array(fc.tuple(fc.nat({ max: r - 1 }), fc.nat({ max: r - 1 })), { maxLength: r + 1 }),
        clientRelays: fc.array(fc.array(fc.nat({ max: r - 1 }), { minLength: 1, maxLength: 2 }), {
          minLength: MAX_REPLICAS,
          maxLength: MAX_REPLICAS,
        }),
        unloadDelay,
        gc,
        seed,
      }),
    )
    .map(({ relays: r, clients, tree, extra, clientRelays, unloadDelay, gc, seed }) => {
      const meshLinks: Array<[number, number]> = tree.map(([parent, up], i) => (up ? [i + 1, parent] : [parent, i + 1]))
      for (const [a, b] of extra) if (a !== b) meshLinks.push([a, b])
      const clientLinks = clientRelays.slice(0, clients).map((list) => [...new Set(list)])
      return { relays: r, clients, meshLinks, clientLinks, unloadDelay, gc, seed }
    })
