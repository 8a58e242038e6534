import type { IncomingMessage, ServerResponse } from 'node:http'

/** Answers with `body` as JSON. */
export const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(`${JSON.stringify(body)}\n`)
}

/** The body of `req`, or undefined (and the connection closed) when it exceeds `limit` bytes. */
export const readBody = async (req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> => {
  // A declared length over the limit is refused before a byte of the body is read.
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) return undefined
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks))
}
