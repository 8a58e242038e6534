import { execFile } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI, RelayProcess } from '../helpers/relay-process.js'

/**
 * The `converge` command runs the relay with a young generation that does not grow
 * (packages/relay/src/v8-defaults.ts): set by the launcher before the relay's modules load,
 * overridable by CONVERGE_V8_YOUNG_GROWTH or node's own young-generation flags. Read from
 * the relay's own metrics (prom-client's heap space sizes), after the whole CLI has loaded.
 */
const MiB = 2 ** 20

const newSpaceBytes = async (relay: RelayProcess): Promise<number> => {
  const text = await (await fetch(`${relay.httpUrl}/metrics`)).text()
  const m = /^converge_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(text)
  if (m === null) throw new Error(`no new-space size in the relay's metrics:\n${text.slice(0, 500)}`)
  return Number(m[1])
}

describe('the converge launcher’s V8 default (young generation)', () => {
  const relays: RelayProcess[] = []
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.dispose()
  })
  const start = async (options: ConstructorParameters<typeof RelayProcess>[0] = {}) => {
    const relay = await RelayProcess.start(options)
    relays.push(relay)
    return relay
  }

  it('keeps the young generation at V8’s initial size by default; CONVERGE_V8_YOUNG_GROWTH=off and node’s own flag give V8’s growth back', async () => {
    const [byDefault, off, ownFlag] = await Promise.all([
      start(),
      start({ env: { CONVERGE_V8_YOUNG_GROWTH: 'off' } }),
      start({ nodeArgs: ['--max-semi-space-size=8'] }),
    ])
    const sizes = {
      byDefault: await newSpaceBytes(byDefault),
      off: await newSpaceBytes(off),
      ownFlag: await newSpaceBytes(ownFlag),
    }
    // Loading the CLI alone grows V8's young generation from 1 MiB semi-spaces to 8 or 16 MiB.
    expect(sizes.byDefault, JSON.stringify(sizes)).toBeLessThanOrEqual(2 * MiB)
    expect(sizes.off, JSON.stringify(sizes)).toBeGreaterThan(4 * MiB)
    expect(sizes.ownFlag, JSON.stringify(sizes)).toBeGreaterThan(4 * MiB)
  })

  it('refuses a growth factor that is not off or a whole number ≥ 1, saying why', async () => {
    const outcome = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, '--version'],
        { timeout: 20_000, env: { ...process.env, CONVERGE_V8_YOUNG_GROWTH: '0.5' } },
        (err, _stdout, stderr) => resolve({ code: err === null ? 0 : (err.code as number), stderr }),
      )
    })
    expect(outcome.code).toBe(1)
    expect(outcome.stderr).toMatch(/CONVERGE_V8_YOUNG_GROWTH must be off or a whole number ≥ 1/)
  })
})
