import { waitFor } from './wait.js'

/** What a network says of its frames: in flight now, and delivered so far (core's MemoryNetwork). */
export interface CountedNetwork {
  readonly inFlight: number
  readonly delivered: number
}

/**
 * Resolves with the frames delivered once the network has fallen quiet: nothing in flight,
 * and nothing new delivered over several consecutive turns of the event loop (a replica
 * answers a frame within a turn or two: acks wait one setTimeout 0). A network that keeps
 * forwarding (a loop) never gets there and fails after 5 s.
 */
export const untilQuiet = async (net: CountedNetwork): Promise<number> => {
  let last = -1
  let quietTurns = 0
  await waitFor(
    () => {
      quietTurns = net.inFlight === 0 && net.delivered === last ? quietTurns + 1 : 0
      last = net.delivered
      return quietTurns >= 5
    },
    { what: 'the network to fall quiet', timeout: 5000, interval: 1 },
  )
  return net.delivered
}
