/**
 * The memory floor: a bare `ws` server that holds the same sockets and the same document
 * bytes as a sync server, and does nothing else. Each connection to /<doc> is kept; every
 * binary message it sends is stored under <doc>; a new connection gets the stored bytes of
 * its document (or one empty message), so a client knows the server has answered.
 *
 * Env: PORT (required), HOST (default 127.0.0.1). Answers GET / with 200 (readiness).
 */
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const port = Number(process.env.PORT)
if (!Number.isInteger(port)) throw new Error('PORT must be set')

const docs = new Map<string, { sockets: Set<unknown>; bytes: Buffer[] }>()
const http = createServer((_req, res) => res.end('bare ws'))
const wss = new WebSocketServer({ server: http })

wss.on('connection', (socket, req) => {
  const name = decodeURIComponent((req.url ?? '/').slice(1))
  let doc = docs.get(name)
  if (doc === undefined) {
    doc = { sockets: new Set(), bytes: [] }
    docs.set(name, doc)
  }
  const held = doc
  held.sockets.add(socket)
  socket.send(held.bytes.length > 0 ? Buffer.concat(held.bytes) : Buffer.alloc(0))
  socket.on('message', (data: Buffer) => {
    held.bytes.push(Buffer.from(data))
    socket.send(Buffer.alloc(0))
  })
  socket.on('close', () => {
    held.sockets.delete(socket)
    // Unload at once when the last socket leaves, as the anchors do.
    if (held.sockets.size === 0) docs.delete(name)
  })
})

http.listen(port, process.env.HOST ?? '127.0.0.1')
process.once('SIGTERM', () => process.exit(0))
