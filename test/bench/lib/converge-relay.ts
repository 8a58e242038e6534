import { convergeCli } from './paths.js'

/** The admin token the benchmark gives every converge relay it starts (for GET /api/docs/…). */
export const ADMIN_TOKEN = 'bench'

/**
 * The command line of a converge relay (the CLI) on 127.0.0.1:`port` with its data in
 * `data`, the admin API on and only warnings logged; `extra` arguments go last.
 */
export const convergeRelayArgv = (port: number, data: string, extra: string[] = []): string[] => [
  process.execPath,
  convergeCli(),
  'relay',
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--data',
  data,
  '--admin-token',
  ADMIN_TOKEN,
  '--log-level',
  'warn',
  ...extra,
]

/** A document's durable state on the relay at `port` (admin API), or undefined when it has none. */
export const fetchDocState = async (port: number, doc: string): Promise<Uint8Array | undefined> => {
  const res = await fetch(`http://127.0.0.1:${port}/api/docs/${encodeURIComponent(doc)}/update`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  if (res.status !== 200) {
    await res.arrayBuffer()
    return undefined
  }
  return new Uint8Array(await res.arrayBuffer())
}
