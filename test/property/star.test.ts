import { describe, it } from 'vitest'
import { checkClusterProperty, propertyTimeout } from './cluster-property.js'
import { starShape } from './cluster-shapes.js'

const RUNS = 400
const NAME = 'clients of one relay converge, whatever the edits, delivery order and dropped links'

describe('property: one relay', () => {
  it(
    NAME,
    () =>
      checkClusterProperty({
        name: NAME,
        file: import.meta.url,
        shapes: starShape({ min: 2, max: 3 }),
        faults: { network: 1 },
        maxCommands: 40,
        runs: RUNS,
      }),
    propertyTimeout(),
  )
})
