import { decodeMuxFrame } from '@converge/core'
import type { Direction } from '../lib/tcp-proxy.js'
import { type WireEvent, WsWireParser } from '../lib/ws-frames.js'

/** Bytes and frames of one kind of traffic, one direction. */
export interface LedgerLine {
  frames: number
  /** Bytes on the wire: WebSocket header + payload (the HTTP upgrade for 'http upgrade'). */
  bytes: number
  /** Of which WebSocket frame headers (and masking keys). */
  headerBytes: number
  /** For sync-step2 and update: bytes of the Yjs updates they carry. */
  updateBytes: number
  /** For sync-step2 and update: how many carried nothing (an empty update, 2 bytes). */
  empty: number
}

/**
 * Classifies the traffic of a mesh link as it crosses the proxy: the HTTP upgrade,
 * WebSocket control frames, and every converge.v1 message by type, each direction apart.
 */
export class WireLedger {
  readonly lines: Record<Direction, Map<string, LedgerLine>> = { up: new Map(), down: new Map() }
  private readonly parsers = new Map<string, WsWireParser>()

  /** Feed for TcpProxy's onChunk. */
  readonly onChunk = (direction: Direction, chunk: Buffer, connection: number): void => {
    const key = `${connection}:${direction}`
    let parser = this.parsers.get(key)
    if (parser === undefined) {
      parser = new WsWireParser((e) => this.record(direction, e))
      this.parsers.set(key, parser)
    }
    parser.push(chunk)
  }

  /** Forgets the counts (parsers keep their position in the streams). */
  reset(): void {
    this.lines.up.clear()
    this.lines.down.clear()
  }

  private line(direction: Direction, kind: string): LedgerLine {
    let l = this.lines[direction].get(kind)
    if (l === undefined) {
      l = { frames: 0, bytes: 0, headerBytes: 0, updateBytes: 0, empty: 0 }
      this.lines[direction].set(kind, l)
    }
    return l
  }

  private record(direction: Direction, e: WireEvent): void {
    if (e.kind === 'handshake') {
      const l = this.line(direction, 'http upgrade')
      l.frames++
      l.bytes += e.bytes
      return
    }
    let kind: string
    let updateBytes = 0
    if (e.opcode === 2) {
      try {
        const m = decodeMuxFrame(e.payload)
        kind = m.type
        if (m.type === 'sync-step2' || m.type === 'update') updateBytes = m.update.length
      } catch {
        kind = 'undecodable'
      }
    } else {
      kind =
        ({ 8: 'ws close', 9: 'ws ping', 10: 'ws pong' } as Record<number, string>)[e.opcode] ?? `ws opcode ${e.opcode}`
    }
    const l = this.line(direction, kind)
    l.frames++
    l.bytes += e.headerBytes + e.payload.length
    l.headerBytes += e.headerBytes
    l.updateBytes += updateBytes
    if ((kind === 'sync-step2' || kind === 'update') && updateBytes <= 2) l.empty++
  }

  /** A copy of the counts: every kind with both directions, largest first. */
  summary(): Array<{ kind: string; up: LedgerLine | undefined; down: LedgerLine | undefined; bytes: number }> {
    const kinds = new Set([...this.lines.up.keys(), ...this.lines.down.keys()])
    const copy = (l: LedgerLine | undefined) => (l === undefined ? undefined : { ...l })
    return [...kinds]
      .map((kind) => {
        const up = copy(this.lines.up.get(kind))
        const down = copy(this.lines.down.get(kind))
        return { kind, up, down, bytes: (up?.bytes ?? 0) + (down?.bytes ?? 0) }
      })
      .sort((a, b) => b.bytes - a.bytes)
  }

  total(): number {
    let n = 0
    for (const d of ['up', 'down'] as const) for (const l of this.lines[d].values()) n += l.bytes
    return n
  }
}
