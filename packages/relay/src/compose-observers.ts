import type { ReplicaObserver } from '@converge/core'

/** One observer that calls each given observer's hook in turn (metrics, the cluster, ...). */
export const composeObservers = (...observers: Array<ReplicaObserver | undefined>): ReplicaObserver => {
  const present = observers.filter((o): o is ReplicaObserver => o !== undefined)
  if (present.length === 1) return present[0] as ReplicaObserver
  const composed: Record<string, (...args: unknown[]) => void> = {}
  const keys = new Set(present.flatMap((o) => Object.keys(o)))
  for (const key of keys) {
    const hooks = present
      .map((o) => (o as Record<string, unknown>)[key])
      .filter((h): h is (...args: unknown[]) => void => typeof h === 'function')
    composed[key] = (...args) => {
      for (const hook of hooks) hook(...args)
    }
  }
  return composed as ReplicaObserver
}
