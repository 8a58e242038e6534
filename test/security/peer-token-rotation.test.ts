import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { signToken } from '@converge/relay'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/relay-process.js'
import { waitFor } from '../helpers/wait.js'
import { SECRET, startRelay } from './harness.js'

// Issue 16, edge: a relay's own mesh token (--peer-token-file) rotates without a restart.

/** A relay with auth that records the tokens relay peers present (each hello, refreshed ones too). */
const tokenCheckingRelay = async (port = 0) => {
  const seen: string[] = []
  const relay = await startRelay({
    port,
    authSecret: SECRET,
    extensions: [
      {
        onAuthenticate: ({ role, token }) => {
          if (role === 'relay') seen.push(token)
        },
      },
    ],
  })
  return { relay, seen }
}

const relayToken = (sub: string) => signToken(SECRET, { docs: ['**'], mode: 'write', relay: true, sub })

describe('--peer-token-file', () => {
  it('a redial after the token file changed presents the new token', async () => {
    const file = join(await tempDir('peer-token'), 'token')
    const first = await relayToken('first')
    const second = await relayToken('second')
    await writeFile(file, `${first}\n`)
    let a = await tokenCheckingRelay()
    const port = a.relay.port
    const b = await startRelay({ peers: [a.relay.url], peerTokenFile: file })
    await waitFor(() => b.meshPeers[0]?.status === 'open', { what: 'the mesh link to open', timeout: 15_000 })
    expect(a.seen).toEqual([first])
    // The peer goes away; meanwhile the token is rotated in the file; the redial uses it.
    await a.relay.stop()
    await waitFor(() => b.meshPeers[0]?.status !== 'open', { what: 'the link to drop' })
    await writeFile(file, `${second}\n`)
    a = await tokenCheckingRelay(port)
    await waitFor(() => b.meshPeers[0]?.status === 'open', { what: 'the link to be redialed', timeout: 20_000 })
    expect(a.seen).toEqual([second])
  })

  it('a changed token file is sent on the open link as a refreshed hello, without a redial', async () => {
    const file = join(await tempDir('peer-token'), 'token')
    const first = await relayToken('first')
    const second = await relayToken('second')
    await writeFile(file, first)
    const a = await tokenCheckingRelay()
    const b = await startRelay({ peers: [a.relay.url], peerTokenFile: file })
    await waitFor(() => b.meshPeers[0]?.status === 'open', { what: 'the mesh link to open', timeout: 15_000 })
    let drops = 0
    b.meshPeers[0]?.on('status', (status) => {
      if (status !== 'open') drops++
    })
    await writeFile(file, second)
    await waitFor(() => a.seen.includes(second), { what: 'the refreshed token to arrive', timeout: 10_000 })
    expect(a.seen).toEqual([first, second])
    expect(drops).toBe(0)
  })

  it('a relay whose token file cannot be read does not start', async () => {
    const missing = join(await tempDir('peer-token'), 'nothing-here')
    await expect(startRelay({ peers: ['ws://127.0.0.1:9'], peerTokenFile: missing })).rejects.toThrow(/nothing-here/)
  })
})
