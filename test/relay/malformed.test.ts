import { encodeMuxFrame, MUX_PROTOCOL } from '@converge/core'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RelayProcess } from '../helpers/relay-process.js'
import { nodeReplica } from '../helpers/replicas.js'
import { waitFor } from '../helpers/wait.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length > 0) await (cleanup.pop() as () => Promise<void>)()
})

/** Opens a raw socket, sends `frames`, and resolves with the close code the relay chose. */
const closeCodeAfter = (url: string, protocols: string[], frames: Array<Uint8Array | string>) =>
  new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, protocols)
    const timer = setTimeout(() => reject(new Error('the relay did not close the socket')), 5000)
    ws.on('open', () => {
      for (const f of frames) ws.send(f, { binary: typeof f !== 'string' })
    })
    ws.on('close', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    ws.on('error', () => undefined)
  })

describe('malformed bytes', () => {
  it('close the offending socket only, with a documented code, and the relay keeps serving others', async () => {
    const relay = await RelayProcess.start()
    cleanup.push(() => relay.dispose())
    const a = await nodeReplica(relay.url)
    const b = await nodeReplica(relay.url)
    cleanup.push(
      () => a.dispose(),
      () => b.dispose(),
    )
    const da = await a.replica.open('doc')
    const db = await b.replica.open('doc')
    await a.replica.whenSynced('doc', { timeout: 5000 })
    await b.replica.whenSynced('doc', { timeout: 5000 })

    const yws = `${relay.url}/doc`
    // y-websocket framing: an unknown message type, a truncated sync message, a bogus update.
    expect(await closeCodeAfter(yws, [], [new Uint8Array([7, 1, 2])])).toBe(4400)
    expect(await closeCodeAfter(yws, [], [new Uint8Array([0, 2, 200])])).toBe(4400)
    expect(await closeCodeAfter(yws, [], [new Uint8Array([0, 2, 3, 255, 255, 255])])).toBe(4400)
    // converge.v1: garbage, a text frame, a message before hello, an unsupported version.
    expect(await closeCodeAfter(relay.url, [MUX_PROTOCOL], [new Uint8Array([255, 255, 255, 255, 255, 255])])).toBe(4400)
    expect(await closeCodeAfter(relay.url, [MUX_PROTOCOL], ['{"hello":1}'])).toBe(4400)
    expect(await closeCodeAfter(relay.url, [MUX_PROTOCOL], [encodeMuxFrame({ type: 'subscribe', doc: 'doc' })])).toBe(
      4400,
    )
    const badVersion = encodeMuxFrame({ type: 'hello', version: 99, peerId: 'x', role: 'client', token: '' })
    expect(await closeCodeAfter(relay.url, [MUX_PROTOCOL], [badVersion])).toBe(4426)

    // The well-behaved clients kept their sockets and keep syncing.
    da.getText('text').insert(0, 'still here')
    await waitFor(() => db.getText('text').toString() === 'still here', { what: 'sync after the bad sockets' })
    expect(a.replica.status('doc').connection).toBe('online')
    expect(relay.alive).toBe(true)
    const metrics = await (await fetch(`${relay.httpUrl}/metrics`)).text()
    const malformed = /converge_errors_total\{kind="CONVERGE_MALFORMED_MESSAGE"\} (\d+)/.exec(metrics)
    expect(Number(malformed?.[1])).toBeGreaterThanOrEqual(6)
  })
})
