import { describe, expect, it, vi } from 'vitest'
import { relayWithClients } from '../../../test/helpers/memory-relay.js'

const WAIT = { timeout: 5_000, interval: 5 }

describe('ReplicaOptions.savedWhen (a relay acknowledges saved only once its gate opens)', () => {
  it('a durable update is visible at once but saved only when the gate resolves, and in order', async () => {
    const gates: Array<{ update: Uint8Array; open: () => void }> = []
    const { net, a, da, db, destroy } = await relayWithClients({
      relay: { savedWhen: (_doc, update) => new Promise<void>((open) => gates.push({ update, open })) },
    })
    for (const g of gates.splice(0)) g.open()
    await vi.waitFor(() => expect(a.status('doc').saved).toBe(true), WAIT)

    da.getText('t').insert(0, 'x')
    await vi.waitFor(() => expect(gates.length).toBe(1), WAIT)
    da.getText('t').insert(1, 'y')
    await vi.waitFor(() => expect(gates.length).toBe(2), WAIT)
    // Durable on the relay: forwarded to b, but not acknowledged to a.
    await vi.waitFor(() => expect(db.getText('t').toString()).toBe('xy'), WAIT)
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(a.status('doc').unsaved).toBe(2)
    // The second gate opening first saves nothing: acknowledgements keep receive order.
    gates[1]?.open()
    await vi.waitFor(() => expect(net.inFlight).toBe(0), WAIT)
    expect(a.status('doc').unsaved).toBe(2)
    gates[0]?.open()
    await a.whenSaved('doc', { timeout: WAIT.timeout })
    await destroy()
  })
})
