import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RELAY_OPTION_SPEC } from '@converge/relay'
import { validate } from 'dockerfile-utils'
import { describe, expect, it } from 'vitest'

/**
 * The deployment files, checked as far as this machine can: there is no Docker engine
 * (so the image is never built here) and no running systemd (so the unit never starts).
 * What is checked: the Dockerfile's syntax and instructions (dockerfile-utils, the linter of
 * the Dockerfile language server; hadolint is not installable offline), that what it copies
 * exists, `systemd-analyze verify` on the unit, and that every environment variable both
 * set is a relay option.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DOCKERFILE = join(ROOT, 'ops', 'Dockerfile')
const UNIT = join(ROOT, 'ops', 'converge-relay.service')
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze'

const knownEnv = new Set([...RELAY_OPTION_SPEC.map((s) => s.env), 'NODE_ENV'])

describe('deployment files', () => {
  it('the Dockerfile lints clean, copies only what exists, and sets only relay options', async () => {
    const text = await readFile(DOCKERFILE, 'utf8')
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)
    expect(problems).toEqual([])
    // COPY sources of the build stage (not --from=) are paths in the repository.
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (m[1] as string).split(' ')) expect(existsSync(join(ROOT, source)), source).toBe(true)
    }
    const env = /^ENV ((?:.+\\\n)*.+)$/m.exec(text)?.[1] ?? ''
    const names = [...env.matchAll(/([A-Z_]+)=/g)].map((m) => m[1])
    expect(names.length).toBeGreaterThan(3)
    for (const name of names) expect(knownEnv.has(name as string), name).toBe(true)
  })

  it('a Dockerfile with a mistake does not lint clean (the check can fail)', () => {
    expect(validate('FROM node:20\nCOPY\nEXPOSE 99999\nCMD [node "x"]\n').length).toBeGreaterThan(0)
  })

  it.skipIf(!existsSync(SYSTEMD_ANALYZE))('systemd-analyze verify passes the unit without a warning', async () => {
    const out = await new Promise<{ code: number; text: string }>((resolve) =>
      execFile(SYSTEMD_ANALYZE, ['verify', UNIT], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : Number(err.code), text: `${stdout}${stderr}` }),
      ),
    )
    expect(out.text).toBe('')
    expect(out.code).toBe(0)
    const unit = await readFile(UNIT, 'utf8')
    const env = [...(/^Environment=(.+)$/m.exec(unit)?.[1] ?? '').matchAll(/([A-Z_]+)=/g)].map((m) => m[1])
    expect(env.length).toBeGreaterThan(2)
    for (const name of env) expect(knownEnv.has(name as string), name).toBe(true)
  })
})

if (!existsSync(SYSTEMD_ANALYZE)) {
  console.log('[ops] SKIPPED systemd-analyze verify of ops/converge-relay.service: no systemd-analyze on this machine')
}
