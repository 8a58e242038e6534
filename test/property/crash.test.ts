import { describe, it } from 'vitest'
import { checkClusterProperty, propertyTimeout } from './cluster-property.js'
import { starShape } from './cluster-shapes.js'

const RUNS = 600
const NAME = 'what a client was told is saved survives crashes of clients and of the relay, and all converge'

describe('property: one relay, with crashes', () => {
  it(
    NAME,
    () =>
      checkClusterProperty({
        name: NAME,
        file: import.meta.url,
        shapes: starShape({ min: 2, max: 5 }),
        faults: { network: 2, crashes: 3, churn: 1 },
        maxCommands: 60,
        runs: RUNS,
      }),
    propertyTimeout(),
  )
})
