import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { LogChunkWriter, readLogChunk } from './log-chunk.js'

describe('a log entry', () => {
  it('reads back every update, in order, whatever their lengths (varuint boundaries included), laid out as lib0 frames them', () => {
    const lengths = [0, 1, 127, 128, 16_383, 16_384, 70_000, 2_097_152]
    const updates = lengths.map((n, i) => Uint8Array.from({ length: n }, (_, k) => (k + i) % 251))
    const writer = new LogChunkWriter()
    for (const u of updates) writer.add(u)
    const chunk = writer.finish()
    expect(readLogChunk(chunk)).toEqual(updates)
    expect(writer.count).toBe(updates.length)
    expect(writer.bytes).toBe(lengths.reduce((a, b) => a + b, 0))
    // The same bytes lib0's encoder writes: entries written before this layout still read.
    const encoder = encoding.createEncoder()
    encoding.writeUint8(encoder, 1)
    for (const u of updates) encoding.writeVarUint8Array(encoder, u)
    expect(chunk).toEqual(encoding.toUint8Array(encoder))
    expect(decoding.readUint8(decoding.createDecoder(chunk))).toBe(1)
  })

  it('keeps its own copy: a caller reusing its buffer after add changes nothing', () => {
    const buffer = new Uint8Array([1, 2, 3])
    const writer = new LogChunkWriter()
    const copy = writer.add(buffer)
    buffer.fill(9)
    expect(copy).toEqual(new Uint8Array([1, 2, 3]))
    expect(readLogChunk(writer.finish())).toEqual([new Uint8Array([1, 2, 3])])
  })
})
