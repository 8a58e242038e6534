import { readFile } from 'node:fs/promises'
import { ObservableV2 } from 'lib0/observable'
import { writePrivateFile } from './private-files.js'
import type { VerifiedClaims } from './tokens.js'

/**
 * One revocation: a token by its id (`jti`), or every token of a subject (`sub`) issued at
 * or before `at` (tokens issued to that subject later are valid again).
 */
export interface Revocation {
  jti?: string
  sub?: string
  /** When it was revoked, in seconds since the epoch. */
  at: number
  /** Why (free text, for operators). */
  reason?: string
}

/** Most revocations kept; beyond, adding one is refused. */
export const MAX_REVOCATIONS = 100_000

/**
 * The relay's revocation list, persisted as JSON (0600) in the data directory when it has
 * one, so a restart does not bring a revoked token back. Emits 'revoked' for every entry
 * added, so live connections that it matches close at once.
 */
export class RevocationList extends ObservableV2<{ revoked: (entry: Revocation) => void }> {
  private entries: Revocation[] = []
  private readonly file: string | undefined
  private writing: Promise<void> = Promise.resolve()

  private constructor(file: string | undefined) {
    super()
    this.file = file
  }

  /** Loads the list of `file` (none yet: empty), or an in-memory list without a file. */
  static async open(file: string | undefined): Promise<RevocationList> {
    const list = new RevocationList(file)
    if (file !== undefined) {
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined
        throw err
      })
      if (text !== undefined) list.entries = parseRevocations(text)
    }
    return list
  }

  list(): Revocation[] {
    return [...this.entries]
  }

  /** True when `claims` belong to a revoked token. */
  isRevoked(claims: Pick<VerifiedClaims, 'jti' | 'sub' | 'iat'>): boolean {
    return this.entries.some((r) => matches(r, claims))
  }

  async add(entry: { jti?: string; sub?: string; reason?: string }): Promise<Revocation> {
    if ((entry.jti === undefined) === (entry.sub === undefined)) throw new Error('give exactly one of jti and sub')
    if (this.entries.length >= MAX_REVOCATIONS) throw new Error(`the revocation list is full (${MAX_REVOCATIONS})`)
    const revocation: Revocation = { ...entry, at: Math.floor(Date.now() / 1000) }
    this.entries = [...this.entries.filter((r) => r.jti !== entry.jti || r.sub !== entry.sub), revocation]
    await this.save()
    this.emit('revoked', [revocation])
    return revocation
  }

  /** Lifts the revocations of a token id or a subject; returns how many. */
  async remove(key: { jti?: string; sub?: string }): Promise<number> {
    const before = this.entries.length
    this.entries = this.entries.filter(
      (r) => !((key.jti !== undefined && r.jti === key.jti) || (key.sub !== undefined && r.sub === key.sub)),
    )
    if (this.entries.length !== before) await this.save()
    return before - this.entries.length
  }

  private save(): Promise<void> {
    const file = this.file
    if (file === undefined) return Promise.resolve()
    const text = `${JSON.stringify({ revocations: this.entries }, null, 1)}\n`
    // One write at a time, in order: the last one on disk is the current list.
    this.writing = this.writing.catch(() => undefined).then(() => writePrivateFile(file, text))
    return this.writing
  }
}

/** True when `r` revokes a token with these claims. */
export const matches = (r: Revocation, claims: Pick<VerifiedClaims, 'jti' | 'sub' | 'iat'>): boolean =>
  (r.jti !== undefined && r.jti === claims.jti) ||
  (r.sub !== undefined && r.sub === claims.sub && (claims.iat === undefined || claims.iat <= r.at))

const parseRevocations = (text: string): Revocation[] => {
  const parsed = JSON.parse(text) as { revocations?: unknown }
  if (!Array.isArray(parsed.revocations)) throw new Error('revocations file: no "revocations" array')
  return parsed.revocations.filter(
    (r): r is Revocation =>
      typeof r === 'object' &&
      r !== null &&
      typeof (r as Revocation).at === 'number' &&
      (typeof (r as Revocation).jti === 'string' || typeof (r as Revocation).sub === 'string'),
  )
}
