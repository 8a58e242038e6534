import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { APP_CSP } from './security-headers.js'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

/** Never served: source maps give away the source (and paths of the build machine). */
const HIDDEN = new Set(['.map'])

/** True when `path` is `root` or inside it. */
const inside = (root: string, path: string) => path === root || path.startsWith(root + sep)

/**
 * Serves the files of one directory (the demo app). Paths that leave the directory are
 * refused, also through symlinks (the real path must lie inside the real root); source maps
 * are not served; a path without a file falls back to index.html, as a single-page app wants.
 * Returns false when the request is not for this handler (not GET/HEAD).
 */
export const serveStatic = async (root: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const base = resolve(root)
  let pathname: string
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  } catch {
    res.writeHead(400).end()
    return true
  }
  const candidate = resolve(join(base, normalize(pathname)))
  if (!inside(base, candidate)) {
    res.writeHead(403).end()
    return true
  }
  if (HIDDEN.has(extname(candidate))) return false
  let file = candidate
  let info = await stat(file).catch(() => undefined)
  if (info?.isDirectory()) {
    file = join(file, 'index.html')
    info = await stat(file).catch(() => undefined)
  }
  if (info === undefined || !info.isFile()) {
    if (extname(pathname) !== '') return false
    file = join(base, 'index.html')
    info = await stat(file).catch(() => undefined)
    if (info === undefined) return false
  }
  const realRoot = await realpath(base)
  const real = await realpath(file).catch(() => undefined)
  if (real === undefined || !inside(realRoot, real)) {
    res.writeHead(403).end()
    return true
  }
  file = real
  const type = MIME[extname(file)] ?? 'application/octet-stream'
  // Hashed assets never change; the shell and the service worker must be fetched fresh.
  const immutable = file.includes(`${sep}assets${sep}`)
  res.writeHead(200, {
    'content-type': type,
    'content-length': info.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'content-security-policy': APP_CSP,
  })
  if (req.method === 'HEAD') {
    res.end()
    return true
  }
  createReadStream(file).pipe(res)
  return true
}
