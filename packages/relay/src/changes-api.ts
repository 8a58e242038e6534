import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson } from './admin-api.js'
import { type ChangeFeed, ChangesGoneError, toRecord } from './change-feed.js'

/** Interval of keep-alive lines on an idle change stream, in ms (default; see RelayOptions.changeKeepAlive). */
export const DEFAULT_CHANGE_KEEP_ALIVE = 15_000

/**
 * GET /api/changes?since=SEQ&docs=GLOB&follow=0|1 (behind the admin token).
 *
 * NDJSON by default: one ChangeRecord per line, and an empty line as keep-alive. With
 * `Accept: text/event-stream`, Server-Sent Events: `id: <seq>`, `event: change`,
 * `data: <record>`, and `: keep-alive` comments; a reconnecting EventSource resumes from
 * its `Last-Event-ID`. A cursor older than the retention gets 410 with
 * `{"error", "oldest"}`. `follow=0` ends the response once the latest record is sent.
 */
export const serveChanges = async (
  feed: ChangeFeed,
  req: IncomingMessage,
  res: ServerResponse,
  keepAlive: number,
): Promise<void> => {
  const url = new URL(req.url ?? '/', 'http://x')
  const sse = (req.headers.accept ?? '').includes('text/event-stream')
  const lastEventId = req.headers['last-event-id']
  const sinceText = (sse && typeof lastEventId === 'string' ? lastEventId : undefined) ?? url.searchParams.get('since')
  const since = sinceText === null || sinceText === '' ? 0 : Number(sinceText)
  if (!Number.isSafeInteger(since) || since < 0) {
    sendJson(res, 400, { error: 'since must be a non-negative integer' })
    return
  }
  const follow = url.searchParams.get('follow') !== '0'
  const abort = new AbortController()
  res.on('close', () => abort.abort())
  const changes = feed.changes({
    since,
    docs: url.searchParams.get('docs') ?? undefined,
    follow,
    signal: abort.signal,
  })
  // A cursor the retention has passed is refused before any byte of the stream is sent.
  const { oldest } = await feed.log.bounds()
  if (since > 0 && since < oldest - 1) {
    const gone = new ChangesGoneError(since, oldest)
    sendJson(res, 410, { error: gone.message, oldest })
    return
  }
  res.writeHead(200, {
    'content-type': sse ? 'text/event-stream' : 'application/x-ndjson',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  })
  res.flushHeaders()
  const timer = setInterval(() => res.write(sse ? ': keep-alive\n\n' : '\n'), keepAlive)
  try {
    for await (const change of changes) {
      const record = JSON.stringify(toRecord(change))
      const line = sse ? `id: ${change.seq}\nevent: change\ndata: ${record}\n\n` : `${record}\n`
      if (!res.write(line)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve))
    }
  } catch (err) {
    // Trimmed under a slow reader: say so in-band, then end.
    if (!(err instanceof ChangesGoneError)) throw err
    const gone = JSON.stringify({ error: 'gone', oldest: err.oldest })
    res.write(sse ? `event: gone\ndata: ${gone}\n\n` : `${gone}\n`)
  } finally {
    clearInterval(timer)
    res.end()
  }
}
