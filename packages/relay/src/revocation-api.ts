import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, sendJson } from './http-json.js'
import type { RevocationList } from './revocations.js'

/**
 * /api/revocations of the admin API (the caller checked the admin token):
 *
 *   GET                              {"revocations": [{jti|sub, at, reason?}]}
 *   POST   {"jti": id, "reason"?}    revoke one token; its live connections close at once (4401)
 *   POST   {"sub": subject}          revoke every token of a subject issued until now
 *   DELETE ?jti=id | ?sub=subject    lift it
 */
export const handleRevocations = async (
  revocations: RevocationList,
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): Promise<void> => {
  if (req.method === 'GET') {
    sendJson(res, 200, { revocations: revocations.list() })
    return
  }
  if (req.method === 'POST') {
    const body = await readBody(req, Math.min(maxBodyBytes, 64 * 1024))
    if (body === undefined) {
      sendJson(res, 413, { error: 'body too large' })
      return
    }
    let entry: { jti?: unknown; sub?: unknown; reason?: unknown }
    try {
      entry = JSON.parse(new TextDecoder().decode(body)) as typeof entry
    } catch {
      sendJson(res, 400, { error: 'the body must be JSON: {"jti": "..."} or {"sub": "..."}' })
      return
    }
    const str = (v: unknown) => (typeof v === 'string' && v !== '' && v.length <= 1024 ? v : undefined)
    const jti = str(entry?.jti)
    const sub = str(entry?.sub)
    if ((jti === undefined) === (sub === undefined)) {
      sendJson(res, 400, { error: 'give exactly one of "jti" and "sub" (non-empty strings)' })
      return
    }
    const reason = str(entry.reason)
    try {
      sendJson(res, 201, await revocations.add({ ...(jti ? { jti } : { sub }), ...(reason ? { reason } : {}) }))
    } catch (err) {
      sendJson(res, 409, { error: (err as Error).message })
    }
    return
  }
  if (req.method === 'DELETE') {
    const params = new URL(req.url ?? '/', 'http://x').searchParams
    const jti = params.get('jti') ?? undefined
    const sub = params.get('sub') ?? undefined
    if (jti === undefined && sub === undefined) {
      sendJson(res, 400, { error: 'give ?jti= or ?sub=' })
      return
    }
    sendJson(res, 200, { removed: await revocations.remove({ jti, sub }) })
    return
  }
  sendJson(res, 405, { error: 'method not allowed' })
}
