import { type Logger, pino } from 'pino'

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[41m'],
}
const RESET = '\x1b[0m'
const DIM = '\x1b[2m'
/** pino's own keys, not shown as fields. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'err'])

const field = (value: unknown): string =>
  typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)

/**
 * One pino JSON line as a line for people: `12:00:01 INFO  relay listening  url=ws://… peers=[]`.
 * An error shows its message (and its stack from level error up: warnings, such as a mesh
 * dial failing again, stay one line).
 */
export const prettyLine = (json: string, color: boolean): string => {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json)
  } catch {
    return json
  }
  const level = typeof entry.level === 'number' ? entry.level : 30
  const [label, tint] = LEVELS[level] ?? ['LOG  ', '']
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toTimeString().slice(0, 8)
  const msg = typeof entry.msg === 'string' ? entry.msg : ''
  // A value the message already says (the banner's URLs) is not repeated as a field.
  const fields = Object.entries(entry)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined && !(typeof v === 'string' && v !== '' && msg.includes(v)))
    .map(([k, v]) => `${k}=${field(v)}`)
  const err = entry.err as { message?: string; stack?: string } | undefined
  if (err?.message !== undefined) fields.unshift(`error=${field(err.message)}`)
  const paint = (code: string, s: string) => (color ? `${code}${s}${RESET}` : s)
  let line = `${paint(DIM, time)} ${paint(tint, label)} ${msg}`
  if (fields.length > 0) line += `  ${paint(DIM, fields.join(' '))}`
  if (level >= 50 && err?.stack !== undefined) line += `\n${paint(DIM, err.stack.replace(/^/gm, '    '))}`
  return `${line}\n`
}

export interface LogSetup {
  level: string
  /** auto: pretty when `out` is a terminal. */
  format: 'auto' | 'pretty' | 'json'
  out?: NodeJS.WriteStream
}

/** The relay's logger: pino JSON lines, or the same events as pretty lines for a terminal. */
export const createLogger = ({ level, format, out = process.stdout }: LogSetup): Logger => {
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true)
  if (!pretty) return pino({ name: 'converge', level }, out)
  const color = out.isTTY === true && process.env.NO_COLOR === undefined
  return pino({ name: 'converge', level }, { write: (line: string) => out.write(prettyLine(line, color)) })
}
