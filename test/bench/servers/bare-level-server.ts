/**
 * The memory floor with persistence: what sockets and LevelDB alone cost per open document.
 * The least a server can do for stock y-websocket clients to sync, and store what they send
 * the way y-leveldb and the relays do: every update is one LevelDB put (classic-level, through
 * `level`, the engine every server here uses), and a document's stored updates are read back
 * with one range read when it is first opened. No Yjs: frames are told apart by their first
 * two bytes (each y-protocols type is one varuint byte) and stored and sent as they came.
 *
 * - On connection: a sync step 1 with an empty state vector, so the client answers with its
 *   whole state as a sync step 2.
 * - A client's sync step 1 (once the document's range read is done): every stored update as
 *   one update frame, then an empty sync step 2 (the client counts as synced).
 * - A client's sync step 2 or update with content: stored (one put, held in memory as the
 *   bare ws floor holds its bytes) and forwarded to the room's other sockets as an update.
 * - Awareness frames: forwarded to the room's other sockets; nothing kept.
 * - When the last socket of a document leaves, its bytes are dropped (as the anchors unload).
 *
 * Env: PORT (required), DATA (LevelDB directory, required), HOST (default 127.0.0.1).
 * Answers GET / with 200 (readiness), and drain requests over IPC (drain-probe.ts): a
 * document is durable once it holds a stored update and none of its puts is pending.
 */
import { createServer, type Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import { Level } from 'level'
import WebSocket, { WebSocketServer } from 'ws'
import { serveDrainRequests, until } from './drain-probe.js'

// y-protocols message types and sync steps (each below 128, so each is one varuint byte).
const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2
/** messageSync, syncStep1, the empty state vector (0 clients) as a 1-byte varUint8Array. */
const EMPTY_STEP1 = Buffer.from([MESSAGE_SYNC, SYNC_STEP1, 1, 0])
/** messageSync, syncStep2, the empty update (no structs, no deletions) as a 2-byte varUint8Array. */
const EMPTY_STEP2 = Buffer.from([MESSAGE_SYNC, SYNC_STEP2, 2, 0, 0])
const UPDATE_HEADER = Buffer.from([MESSAGE_SYNC, SYNC_UPDATE])

/** A document's stored updates are the keys `<name>\0<seq, 10 digits>`: one range per document. */
const key = (name: string, seq: number): string => `${name}\0${String(seq).padStart(10, '0')}`

interface Room {
  sockets: Set<WebSocket>
  /** Each stored update as a varUint8Array (its length prefix and bytes), as it came after the 2-byte header. */
  updates: Uint8Array[]
  /** The range read of the document's stored updates, once it is done. */
  loaded: Promise<void>
  /** The next update's sequence number (how many the document has stored). */
  seq: number
  /** Puts not yet written. */
  pending: number
}

/** A running floor server: its HTTP server (listening), the documents it holds, its database. */
export interface BareLevelServer {
  readonly http: Server
  /** Whether document `name` is open, holds a stored update, and has no put pending. */
  durable(name: string): boolean
  /** Stops listening, ends every socket, closes the database. */
  close(): Promise<void>
}

/** The floor server, listening on `port` at `host` with its LevelDB in `dataDir`; resolves once it listens. */
export const startBareLevel = async (port: number, dataDir: string, host = '127.0.0.1'): Promise<BareLevelServer> => {
  const db = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
  await db.open()
  const rooms = new Map<string, Room>()

  const openRoom = (name: string): Room => {
    const room: Room = { sockets: new Set(), updates: [], loaded: Promise.resolve(), seq: 0, pending: 0 }
    room.loaded = db
      .values({ gte: `${name}\0`, lt: `${name}\u0001` })
      .all()
      .then((stored) => {
        // Updates that came while reading follow the stored ones.
        room.updates = [...stored, ...room.updates]
        room.seq += stored.length
      })
    return room
  }

  const store = (name: string, room: Room, update: Uint8Array): void => {
    room.updates.push(update)
    room.pending++
    const write = () =>
      db.put(key(name, room.seq++), update).finally(() => {
        room.pending--
      })
    // The sequence numbers continue the stored ones: writes wait for the range read.
    room.loaded.then(write, write)
  }

  const answerStep1 = async (room: Room, socket: WebSocket): Promise<void> => {
    await room.loaded
    for (const update of room.updates) socket.send(Buffer.concat([UPDATE_HEADER, update]))
    socket.send(EMPTY_STEP2)
  }

  const http = createServer((_req, res) => res.end('bare ws + LevelDB'))
  const wss = new WebSocketServer({ server: http })

  wss.on('connection', (socket, req) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0] ?? '')
    let room = rooms.get(name)
    if (room === undefined) {
      room = openRoom(name)
      rooms.set(name, room)
    }
    const held = room
    held.sockets.add(socket)
    socket.send(EMPTY_STEP1)
    socket.on('message', (frame: Buffer) => {
      if (frame.length < 2) return
      const forward = (bytes: Buffer) => {
        for (const other of held.sockets) if (other !== socket && other.readyState === WebSocket.OPEN) other.send(bytes)
      }
      if (frame[0] === MESSAGE_AWARENESS) return forward(frame)
      if (frame[0] !== MESSAGE_SYNC) return
      if (frame[1] === SYNC_STEP1) {
        answerStep1(held, socket).catch(() => socket.close())
        return
      }
      if (frame[1] !== SYNC_STEP2 && frame[1] !== SYNC_UPDATE) return
      const update = frame.subarray(2)
      // The empty update (varUint8Array [0, 0]): nothing to store or forward.
      if (update.length === 3 && update[0] === 2 && update[1] === 0 && update[2] === 0) return
      store(name, held, Uint8Array.from(update))
      forward(frame[1] === SYNC_UPDATE ? frame : Buffer.concat([UPDATE_HEADER, update]))
    })
    socket.on('close', () => {
      held.sockets.delete(socket)
      if (held.sockets.size === 0 && rooms.get(name) === held) rooms.delete(name)
    })
  })

  await new Promise<void>((resolve) => http.listen(port, host, resolve))
  return {
    http,
    durable(name) {
      const room = rooms.get(name)
      return room !== undefined && room.seq > 0 && room.pending === 0
    },
    async close() {
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await Promise.allSettled([...rooms.values()].map((r) => r.loaded))
      // Puts still pending finish before the database closes (abstract-level waits for them).
      await db.close()
    },
  }
}

// Run as a script (the servers bench): PORT, DATA and HOST from the environment; drains over IPC.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT)
  const data = process.env.DATA
  if (!Number.isInteger(port) || data === undefined) throw new Error('PORT and DATA must be set')
  const server = await startBareLevel(port, data, process.env.HOST ?? '127.0.0.1')
  // The memory scenario asks once every document is open, so its room is there.
  serveDrainRequests(async ({ doc }) => {
    const durableAt = await until(() => server.durable(doc))
    // Held in memory as soon as it came: both moments are when the last put was done.
    return { appliedAt: durableAt, durableAt }
  })
  process.once('SIGTERM', () => {
    server.close().finally(() => process.exit(0))
  })
}
