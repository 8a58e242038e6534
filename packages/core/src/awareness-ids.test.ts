import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { readAwarenessClients } from './awareness-ids.js'

describe('awareness states', () => {
  it('a state nested deeper than the limit is malformed (re-encoding it would overflow the stack)', () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, 42)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, `${'['.repeat(20_000)}${']'.repeat(20_000)}`)
    expect(() => readAwarenessClients(encoding.toUint8Array(e))).toThrow(/nested deeper/)
  })
})
