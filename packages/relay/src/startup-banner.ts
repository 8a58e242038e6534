import type { Logger } from 'pino'

export interface StartupFacts {
  host: string
  port: number
  tls: boolean
  /** The data directory, or a note that a custom store is used. */
  data: string
  /** How connections are admitted: JWTs, an onAuthenticate extension, or nobody checks. */
  auth: 'tokens' | 'extension' | 'open'
  adminApi: boolean
  static: string | undefined
  peers: string[]
}

/** An address people can open: a wildcard bind address reads as localhost. */
const reachableHost = (host: string) => {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host
  return h.includes(':') ? `[${h}]` : h
}

/** The http:// (https://) and ws:// (wss://) URLs of a relay, as people open them. */
export const urlsOf = (facts: Pick<StartupFacts, 'host' | 'port' | 'tls'>) => {
  const base = `${reachableHost(facts.host)}:${facts.port}`
  return { http: `${facts.tls ? 'https' : 'http'}://${base}/`, ws: `${facts.tls ? 'wss' : 'ws'}://${base}` }
}

/** The startup lines: where to point a browser and clients, where data goes, who may connect, which peers. */
export const logStartup = (log: Logger, facts: StartupFacts): void => {
  const { http, ws } = urlsOf(facts)
  log.info(
    {
      http,
      ws,
      listen: `${facts.host}:${facts.port}`,
      data: facts.data,
      auth: {
        tokens: 'tokens (HS256, --auth-secret / --auth-key)',
        extension: 'an onAuthenticate extension',
        open: 'open (no --auth-secret)',
      }[facts.auth],
      adminApi: facts.adminApi ? `${http}api/` : 'off',
      static: facts.static,
      peers: facts.peers,
    },
    `relay listening on ${http} (clients: ${ws})`,
  )
  if (facts.auth === 'open') {
    log.warn('no --auth-secret: anyone who reaches this port may read and write every document')
  }
}
