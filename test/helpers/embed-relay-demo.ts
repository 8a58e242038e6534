import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Relay } from '@converge/relay'
import { tempDir } from './relay-process.js'

const APP = fileURLToPath(new URL('../../demos/embed-relay/app.js', import.meta.url))

export interface DemoApp {
  url: string
  relay: Relay
  stop(): Promise<void>
}
type StartApp = (options: Record<string, unknown>) => Promise<DemoApp>

/** Starts demos/embed-relay on free ports and a temporary data directory; `dispose` stops it and removes the data. */
export const startEmbedRelayDemo = async (
  options: Record<string, unknown> = {},
): Promise<DemoApp & { dispose(): Promise<void> }> => {
  const { startApp } = (await import(APP)) as { startApp: StartApp }
  const data = await tempDir('embed-relay')
  const app = await startApp({ port: 0, relayPort: 0, data, settleDelay: 100, ...options })
  return {
    ...app,
    async dispose() {
      await app.stop()
      await rm(data, { recursive: true, force: true })
    },
  }
}

/** Logs in to the demo as `user` and returns the session cookie it set (`sid=...`). */
export const loginToDemo = async (appUrl: string, user: string): Promise<string> => {
  const res = await fetch(`${appUrl}/login?user=${user}`, { redirect: 'manual' })
  if (res.status !== 303) throw new Error(`login answered ${res.status}`)
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string
}
