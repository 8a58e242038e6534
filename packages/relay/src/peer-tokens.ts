import { type StatWatcher, watchFile } from 'node:fs'
import { readFile } from 'node:fs/promises'

/** How often `--peer-token-file` is checked for a new token, in ms. */
export const PEER_TOKEN_FILE_POLL_MS = 1_000

/** Reads the token in `file` (surrounding whitespace and a trailing newline dropped); throws when empty. */
export const readTokenFile = async (file: string): Promise<string> => {
  const token = (await readFile(file, 'utf8')).trim()
  if (token === '') throw new Error(`the peer token file ${file} is empty`)
  return token
}

/**
 * The token this relay presents to the relays it dials: `--peer-token` as given, or with
 * `--peer-token-file` whatever the file holds at each dial, so the token can rotate (a
 * secret manager rewrites the file) without a restart. When the file changes, `changed`
 * is told, and the relay sends the new token on its open links (Peer.refreshToken) before
 * the old one expires.
 */
export class PeerTokens {
  /** The `token` option of the dialed peers. */
  readonly token: string | (() => Promise<string>) | undefined
  private watcher: StatWatcher | undefined
  private readonly file: string | undefined

  constructor(options: { peerToken?: string; peerTokenFile?: string }) {
    this.file = options.peerTokenFile
    const file = this.file
    this.token = file === undefined ? options.peerToken : () => readTokenFile(file)
  }

  /** Calls `changed` whenever the token file's content may have changed. */
  watch(changed: () => void): void {
    if (this.file === undefined || this.watcher !== undefined) return
    this.watcher = watchFile(this.file, { interval: PEER_TOKEN_FILE_POLL_MS, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) changed()
    })
  }

  stop(): void {
    this.watcher?.removeAllListeners('change')
    this.watcher?.unref()
    this.watcher = undefined
  }
}
