import { expect } from 'vitest'
import type { RelayProcess } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import type { ReplicaState } from './client-process.js'
import type { ClientSlot } from './client-slot.js'
import { relayState, sameState } from './relay-state.js'

/** A chaos run that has healed: every process up, every link restored, every client stopped. */
export interface HealedRun {
  /** The tag of its log line ('chaos', 'nats-chaos'). */
  name: string
  seed: number
  doc: string
  clients: ClientSlot[]
  relays: RelayProcess[]
  /** Faults injected, by kind. */
  faults: Record<string, number>
  /** When it healed (performance.now()). */
  healed: number
  /** How long all replicas may take to hold identical state, in ms. */
  convergeTimeout: number
}

/**
 * Waits until every client and every relay holds the same state, logs the run's figures,
 * and checks its promise: no acknowledged insert is lost, none is applied twice, every
 * insert of the last incarnations is there, and inserts were acknowledged and faults
 * injected at all.
 */
export const expectConvergedNothingLost = async (run: HealedRun): Promise<void> => {
  const { clients, relays, seed } = run
  let states: ReplicaState[] = []
  await waitFor(
    async () => {
      states = [
        ...(await Promise.all(clients.map((c) => c.current.state()))),
        ...(await Promise.all(relays.map((r) => relayState(r, run.doc)))),
      ]
      return states.every((s) => sameState(s, states[0] as ReplicaState))
    },
    { timeout: run.convergeTimeout, interval: 200, what: 'every relay and client to hold the same state' },
  ).catch((err) => {
    const sizes = states.map((s) => s.array.length).join(', ')
    throw new Error(`${(err as Error).message} (inserts held by clients then relays: ${sizes}; seed ${seed})`)
  })
  const convergeSeconds = (performance.now() - run.healed) / 1000

  const final = (states[0] as ReplicaState).array
  const present = new Set(final)
  const runs = clients.flatMap((c) => c.incarnations)
  const acked = runs.flatMap((r) => [...r.acked])
  const operations = runs.reduce((n, r) => n + r.inserted.size, 0)
  const lost = acked.filter((id) => !present.has(id))
  // Inserts a killed client made but no relay acknowledged may die with it: counted, allowed.
  const unackedGone = runs.flatMap((r) => [...r.inserted].filter((id) => !r.acked.has(id) && !present.has(id)))
  const faultCount = Object.values(run.faults).reduce((a, b) => a + b, 0)
  console.log(
    `[${run.name}] operations ${operations}, faults injected ${faultCount} ${JSON.stringify(run.faults)}, ` +
      `acknowledged ${acked.length}, lost ${lost.length} (unacknowledged gone with killed clients: ${unackedGone.length}), converged ${convergeSeconds.toFixed(1)} s after healing ` +
      `(seed ${seed})`,
  )
  expect(lost).toEqual([])
  // No insert is applied twice.
  expect(present.size).toBe(final.length)
  // The last incarnations stopped once all their inserts were acknowledged: none is missing.
  for (const c of clients) expect([...c.current.inserted].filter((id) => !present.has(id))).toEqual([])
  expect(acked.length).toBeGreaterThan(0)
  expect(faultCount).toBeGreaterThan(0)
}
