import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { EMPTY_UPDATE, equalBytes, isConvergeError, type Replica } from '@converge/core'
import { docNameOf } from '@converge/websocket'
import * as Y from 'yjs'
import { docToJson } from './doc-json.js'
import { readBody, sendJson } from './http-json.js'

export { sendJson } from './http-json.js'

import { handleRevocations } from './revocation-api.js'
import type { RevocationList } from './revocations.js'

/** Largest request body accepted by default (POST /api/docs/:name/update), in bytes. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024 * 1024

export interface AdminApiOptions {
  /** Largest request body, in bytes (413 beyond). Default 16 MiB. */
  maxBodyBytes?: number
  /** The token revocation list, edited under /api/revocations. Default: none (404 there). */
  revocations?: RevocationList
}

/**
 * The admin API, behind a bearer token. Document names are percent-encoded path
 * segments (`team%2Fnotes`).
 *
 *   GET    /api/docs                   {"docs": [names]}
 *   GET    /api/docs/:name             the document as JSON
 *   GET    /api/docs/:name/update      the whole document as one Yjs update (binary)
 *   POST   /api/docs/:name/update      apply a Yjs update (durable before it is visible)
 *   DELETE /api/docs/:name             delete the document; the delete wins (a tombstone the
 *                                      mesh replicates): the name answers 410 and refuses every
 *                                      client until it is recreated
 *   POST   /api/docs/:name/recreate    lift the tombstone: the name may be written again (empty)
 *   GET    /api/revocations            {"revocations": [...]}
 *   POST   /api/revocations            {"jti": id} or {"sub": subject}: revoke, close live connections
 *   DELETE /api/revocations?jti=|sub=  lift a revocation
 */
export class AdminApi {
  private readonly replica: Replica
  private readonly token: Buffer
  private readonly routes: AdminRoute[]
  private readonly maxBodyBytes: number
  private readonly revocations: RevocationList | undefined

  /** `routes` serve further paths under /api (the change feed, webhooks), tried before the document routes. */
  constructor(replica: Replica, token: string, routes: AdminRoute[] = [], options: AdminApiOptions = {}) {
    this.replica = replica
    this.token = Buffer.from(`Bearer ${token}`)
    this.routes = routes
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_ADMIN_BODY_BYTES
    this.revocations = options.revocations
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const given = Buffer.from(req.headers.authorization ?? '')
    if (given.length !== this.token.length || !timingSafeEqual(given, this.token)) {
      sendJson(res, 401, { error: 'a valid admin bearer token is required' })
      return
    }
    const path = (req.url ?? '').split('?')[0] ?? ''
    if (path === '/api/revocations' && this.revocations !== undefined) {
      await handleRevocations(this.revocations, req, res, this.maxBodyBytes)
      return
    }
    for (const route of this.routes) if (await route(req, res, path)) return
    if (path === '/api/docs' && req.method === 'GET') {
      sendJson(res, 200, { docs: await this.replica.list() })
      return
    }
    const m = /^\/api\/docs\/([^/]+)(\/update|\/recreate)?$/.exec(path)
    const name = m === null ? undefined : docNameOf(m[1] as string)
    if (m === null || name === undefined) {
      sendJson(res, 404, { error: 'no such route' })
      return
    }
    const asUpdate = m[2] === '/update'
    if (m[2] === '/recreate') {
      if (req.method !== 'POST') sendJson(res, 405, { error: 'method not allowed' })
      else {
        await this.replica.recreateDoc(name)
        res.writeHead(204).end()
      }
      return
    }
    if (this.replica.isDeleted(name) && req.method !== 'DELETE') {
      sendJson(res, 410, { error: `${name} was deleted; POST /api/docs/:name/recreate to use the name again` })
      return
    }
    if (req.method === 'GET') {
      const update = await this.replica.encodeState(name)
      // Nothing stored under this name (an empty state and not listed): no such document.
      if (equalBytes(update, EMPTY_UPDATE) && !(await this.replica.list()).includes(name)) {
        sendJson(res, 404, { error: `no document named ${JSON.stringify(name)}` })
        return
      }
      if (!asUpdate) {
        const doc = new Y.Doc()
        Y.applyUpdate(doc, update)
        sendJson(res, 200, { name, content: docToJson(doc) })
        doc.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': update.length })
      res.end(update)
      return
    }
    if (req.method === 'POST' && asUpdate) {
      const body = await readBody(req, this.maxBodyBytes)
      if (body === undefined) {
        sendJson(res, 413, { error: `body larger than ${this.maxBodyBytes} bytes` })
        return
      }
      try {
        await this.replica.applyUpdate(name, body, ADMIN_CONTEXT)
      } catch (err) {
        // The decoder's own words describe its internals, not the request: say what was wrong.
        if (isConvergeError(err, 'CONVERGE_MALFORMED_MESSAGE')) {
          sendJson(res, 400, { error: 'the body is not a Yjs update (binary, as Y.encodeStateAsUpdate makes)' })
          return
        }
        if (isConvergeError(err, 'CONVERGE_LIMIT_EXCEEDED')) {
          sendJson(res, 400, { error: err.message })
          return
        }
        throw err
      }
      res.writeHead(204).end()
      return
    }
    if (req.method === 'DELETE' && !asUpdate) {
      await this.replica.deleteDoc(name)
      res.writeHead(204).end()
      return
    }
    sendJson(res, 405, { error: 'method not allowed' })
  }
}

/** Serves a request under /api and resolves true, or resolves false to pass it on. */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>

/** Who the admin API's writes are recorded as (the change feed's `who`). */
export const ADMIN_CONTEXT = { user: 'admin' } as const
