import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deleteSetOf, forEachClockRange, scanUpdate } from './update-scan.js'

describe('update scan: hostile sizes', () => {
  it('a claimed huge count, length or string in a tiny update throws at once without a large table', () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 2 ** 53 - 1)
    encoding.writeVarUint(e, 2 ** 53 - 1)
    encoding.writeVarUint(e, 5)
    encoding.writeVarUint(e, 0)
    encoding.writeUint8(e, 4)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, 2 ** 40) // a string claiming 1 TiB
    const tiny = encoding.toUint8Array(e)
    expect(() => scanUpdate(tiny)).toThrow()
    expect(() => forEachClockRange(tiny, () => {})).toThrow()
  })
})

describe('deleteSetOf', () => {
  it('reads a delete set listing one client twice, the second time with 200,000 ranges, as Yjs does (no spread of a huge list)', () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 0) // no structs
    encoding.writeVarUint(e, 2) // the delete set: client 5 twice
    for (const n of [1, 200_000]) {
      encoding.writeVarUint(e, 5)
      encoding.writeVarUint(e, n)
      for (let i = 0; i < n; i++) {
        encoding.writeVarUint(e, 2 * i)
        encoding.writeVarUint(e, 1)
      }
    }
    const update = encoding.toUint8Array(e)
    const ds = deleteSetOf(scanUpdate(update))
    const yjs = Y.decodeUpdate(update).ds.clients.get(5) ?? []
    expect(ds.ranges.get(5)?.length).toBe(200_001)
    expect(ds.ranges.get(5)).toEqual(yjs.map((d) => [d.clock, d.len]))
  })
})

describe('forEachClockRange: a client listed twice', () => {
  it("counts only a client's last section, as Y.applyUpdate integrates it (never clocks a Y.Doc would not hold)", () => {
    // Client 5 at clocks 0-2 ('abc'), then again in a second section at 3-4 ('de', origin 5:2).
    // Y.applyUpdate keeps the last section of a client listed twice: the doc holds nothing
    // of client 5 (3-4 wait for 0-2), while the first section's clocks read 0-4.
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, 2)
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, 5)
    encoding.writeVarUint(e, 0)
    encoding.writeUint8(e, 4)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, 't')
    encoding.writeVarString(e, 'abc')
    encoding.writeVarUint(e, 1)
    encoding.writeVarUint(e, 5)
    encoding.writeVarUint(e, 3)
    encoding.writeUint8(e, 4 | 0x80)
    encoding.writeVarUint(e, 5)
    encoding.writeVarUint(e, 2)
    encoding.writeVarString(e, 'de')
    encoding.writeVarUint(e, 0)
    const update = encoding.toUint8Array(e)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    const ranges: number[][] = []
    forEachClockRange(update, (client, from, to) => ranges.push([client, from, to]))
    expect(ranges).toEqual([[5, 3, 5]])
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(new Map()))
  })
})
