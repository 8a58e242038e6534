import { encodeMuxFrame, MUX_PROTOCOL, PROTOCOL_VERSION } from '@converge/core'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { httpUrl, startRelay } from '../helpers/in-process-relay.js'
import { RawPeer } from '../helpers/raw-peer.js'

/** The relay's converge_errors_total for one kind. */
const errorsOf = async (base: string, kind: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text()
  const line = new RegExp(`^converge_errors_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)
  return Number(line?.[1] ?? 0)
}

/** Opens `url`, sends its first frames (a hello on converge.v1), then `bad` back to back in one turn; resolves with the close code. */
const closeAfterBurst = (url: string, protocols: string[], first: Uint8Array[], bad: Uint8Array[]) =>
  new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, protocols)
    const timer = setTimeout(() => reject(new Error('the relay did not close the socket')), 5000)
    ws.on('open', () => {
      for (const f of [...first, ...bad]) ws.send(f, { binary: true })
    })
    ws.on('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    ws.on('error', () => undefined)
  })

const garbage = [
  new Uint8Array([7, 1, 2]),
  new Uint8Array([0, 2, 200]),
  new Uint8Array([255, 255, 255, 255]),
  new Uint8Array([0, 2, 3, 255, 255, 255]),
  new Uint8Array([7, 1, 2]),
]

describe('protocol errors in metrics', () => {
  it('a peer that sends several malformed frames back to back is counted once, on either framing, and others are served', async () => {
    const relay = await startRelay()
    const base = httpUrl(relay)
    const hello = encodeMuxFrame({ type: 'hello', version: PROTOCOL_VERSION, peerId: 'bad', role: 'client', token: '' })
    const bursts: Array<[string, string[], Uint8Array[]]> = [
      [`${relay.url}/doc-a`, [], []],
      [relay.url, [MUX_PROTOCOL], [hello]],
      [relay.url, [MUX_PROTOCOL], []],
    ]
    let expected = await errorsOf(base, 'CONVERGE_MALFORMED_MESSAGE')
    for (const [url, protocols, first] of bursts) {
      expect(await closeAfterBurst(url, protocols, first, garbage)).toBe(4400)
      expected++
      expect(await errorsOf(base, 'CONVERGE_MALFORMED_MESSAGE')).toBe(expected)
    }
    // A well-behaved peer on the same relay is served.
    const good = await RawPeer.yws(relay.url, 'doc-a')
    await good.until((m) => m.type === 'sync-step1', 'the relay step 1')
    good.close()
  })
})
