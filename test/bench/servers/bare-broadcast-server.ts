/**
 * The fan-out floor: the least a server can do for stock y-websocket clients to sync and
 * see each other's updates. No Yjs, no persistence, no state: each sync step 1 is
 * answered with an empty sync step 2 (so the client counts as synced), and every update,
 * step 2 or awareness frame a client sends is forwarded, as the same bytes, to the other
 * sockets of its room. Clients that join a room after updates were sent do not get them:
 * the fan-out scenario opens every reader before the writer's first update.
 *
 * Driven by the same stock readers as the sync servers, its delivery latency is what the
 * load generator alone allows.
 *
 * Env: PORT (required), HOST (default 127.0.0.1). Answers GET / with 200 (readiness).
 */
import { createServer, type Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import WebSocket, { WebSocketServer } from 'ws'

// y-protocols message types (each below 128, so each is one varuint byte).
const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const SYNC_STEP1 = 0
/** messageSync, syncStep2, then the empty update (no structs, no deletions) as a 2-byte varUint8Array. */
const EMPTY_STEP2 = Buffer.from([MESSAGE_SYNC, 1, 2, 0, 0])

/** The floor server, listening on `port` at `host`; resolves once it listens. */
export const startBareBroadcast = async (port: number, host = '127.0.0.1'): Promise<Server> => {
  const rooms = new Map<string, Set<WebSocket>>()
  const http = createServer((_req, res) => res.end('bare broadcast'))
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (socket, req) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0] ?? '')
    let room = rooms.get(name)
    if (room === undefined) {
      room = new Set()
      rooms.set(name, room)
    }
    const peers = room
    peers.add(socket)
    socket.on('message', (data: Buffer) => {
      if (data.length < 2) return
      if (data[0] === MESSAGE_SYNC && data[1] === SYNC_STEP1) {
        socket.send(EMPTY_STEP2)
        return
      }
      if (data[0] !== MESSAGE_SYNC && data[0] !== MESSAGE_AWARENESS) return
      for (const other of peers) if (other !== socket && other.readyState === WebSocket.OPEN) other.send(data)
    })
    socket.on('close', () => {
      peers.delete(socket)
      if (peers.size === 0) rooms.delete(name)
    })
  })
  await new Promise<void>((resolve) => http.listen(port, host, resolve))
  return http
}

// Run as a script (the servers bench): PORT and HOST from the environment.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT)
  if (!Number.isInteger(port)) throw new Error('PORT must be set')
  await startBareBroadcast(port, process.env.HOST ?? '127.0.0.1')
  process.once('SIGTERM', () => process.exit(0))
}
