import { describe, it } from 'vitest'
import { checkClusterProperty, propertyTimeout } from './cluster-property.js'
import { meshShape } from './cluster-shapes.js'

const RUNS = 800
const NAME =
  'relay meshes with cycles converge through partitions, crashes, ghost replays and document churn, losing nothing saved'

describe('property: relay meshes', () => {
  it(
    NAME,
    () =>
      checkClusterProperty({
        name: NAME,
        file: import.meta.url,
        shapes: meshShape({ min: 2, max: 4 }),
        faults: { network: 1, crashes: 1, ghosts: 1, adminWrites: 1, churn: 1 },
        maxCommands: 80,
        runs: RUNS,
      }),
    propertyTimeout(),
  )
})
