// A small app that embeds a converge relay. It has its own login (a session cookie), and the
// relay admits exactly the WebSocket connections that carry a valid session: stock y-websocket
// clients in the app's pages included, since browsers send the cookie with the upgrade.
// Settled documents are mirrored as JSON files, as an app would mirror them into its database.
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { HookError, Relay } from '@converge/relay'

/** Starts the app on `port` and its relay on `relayPort` (0: free ports). */
export const startApp = async ({
  port = 3000,
  relayPort = 1234,
  host = '127.0.0.1',
  data = './embed-relay-data',
  publicDir,
  settleDelay = 1_000,
} = {}) => {
  const sessions = new Map() // session id -> user name
  const mirrorDir = join(data, 'mirror')
  await mkdir(mirrorDir, { recursive: true })

  const relay = await Relay.start({
    host,
    port: relayPort,
    data: join(data, 'relay'),
    settleDelay,
    logger: false,
    extensions: [
      {
        name: 'app-session',
        onAuthenticate({ cookies }) {
          const user = sessions.get(cookies.sid)
          if (user === undefined) throw new HookError('unauthorized', 'log in first')
          return { user }
        },
      },
      {
        name: 'file-mirror',
        async onDocumentSettled({ doc, json, users }) {
          const file = join(mirrorDir, `${encodeURIComponent(doc)}.json`)
          await writeFile(file, `${JSON.stringify({ doc, json, users, savedAt: new Date().toISOString() }, null, 2)}\n`)
        },
      },
    ],
  })

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/login') {
      const user = url.searchParams.get('user') || 'guest'
      const sid = randomBytes(18).toString('base64url')
      sessions.set(sid, user)
      res.writeHead(303, { 'set-cookie': `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`, location: '/' })
      res.end()
      return
    }
    if (url.pathname === '/config') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ relay: `ws://${req.headers.host?.split(':')[0] ?? host}:${relay.port}` }))
      return
    }
    if (url.pathname === '/mirror') {
      const files = await readdir(mirrorDir)
      const docs = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(mirrorDir, f), 'utf8'))))
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(docs))
      return
    }
    if (publicDir !== undefined) {
      const path = normalize(url.pathname === '/' ? '/index.html' : url.pathname)
      const body = await readFile(join(publicDir, path)).catch(() => undefined)
      if (body !== undefined) {
        res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' })
        res.end(body)
        return
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  const appPort = server.address().port
  return {
    url: `http://${host}:${appPort}`,
    relay,
    mirrorDir,
    async stop() {
      await new Promise((resolve) => {
        server.close(resolve)
        server.closeAllConnections()
      })
      await relay.stop()
    },
  }
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' }

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await startApp({
    port: Number(process.env.PORT ?? 3000),
    relayPort: Number(process.env.RELAY_PORT ?? 1234),
  })
  console.log(`app on ${app.url} (log in at ${app.url}/login?user=ada), relay on ${app.relay.url}`)
  process.once('SIGINT', () => app.stop().then(() => process.exit(0)))
}
