import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import * as Y from 'yjs'
import { tracesDir } from './paths.js'
import { seededRandom } from './seeded-random.js'

/** One edit: at `pos`, delete `del` characters, then insert `ins`. */
export type Patch = [pos: number, del: number, ins: string]

/** A recorded (or synthetic) editing history: each transaction is a list of patches. */
export interface Trace {
  name: string
  /** 'trace' when read from the traces directory, 'synthetic' when generated because it was missing. */
  source: 'trace' | 'synthetic'
  txns: Patch[][]
  /** The text after all transactions (for traces: as recorded). */
  endContent: string
}

interface TraceFile {
  endContent: string
  txns: Array<{ patches: Patch[] }>
}

const cache = new Map<string, Trace>()

/**
 * Reads `<tracesDir>/<name>.json.gz`. When the file is missing, builds a synthetic typing
 * trace of `syntheticEdits` edits instead and says so on stderr (benchmarks run on a clone
 * without ../shared too; their figures then carry `source: 'synthetic'`).
 */
export const loadTrace = (name = 'automerge-paper', syntheticEdits = 260_000): Trace => {
  const cached = cache.get(name)
  if (cached !== undefined) return cached
  const file = join(tracesDir(), `${name}.json.gz`)
  let trace: Trace
  if (existsSync(file)) {
    const parsed = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as TraceFile
    trace = { name, source: 'trace', txns: parsed.txns.map((t) => t.patches), endContent: parsed.endContent }
  } else {
    process.stderr.write(
      `[bench] trace ${file} not found (set CONVERGE_TRACES_DIR): using a synthetic typing workload of ${syntheticEdits} edits\n`,
    )
    trace = syntheticTrace(name, syntheticEdits)
  }
  cache.set(name, trace)
  return trace
}

/**
 * Seeded synthetic typing: mostly appending at a cursor, with backspaces and cursor jumps,
 * in roughly the automerge-paper mix (70 % inserts, 30 % deletes, single characters).
 */
export const syntheticTrace = (name: string, edits: number, seed = 0x5eed): Trace => {
  const random = seededRandom(seed)
  const alphabet = 'etaoin shrdlu cmfwyp vbgkqj xz\n'
  const txns: Patch[][] = []
  let length = 0
  let cursor = 0
  let text = ''
  for (let i = 0; i < edits; i++) {
    if (random() < 0.02) cursor = Math.floor(random() * (length + 1))
    if (length > 0 && cursor > 0 && random() < 0.3) {
      txns.push([[cursor - 1, 1, '']])
      text = text.slice(0, cursor - 1) + text.slice(cursor)
      cursor--
      length--
    } else {
      const ch = alphabet[Math.floor(random() * alphabet.length)] as string
      txns.push([[cursor, 0, ch]])
      text = text.slice(0, cursor) + ch + text.slice(cursor)
      cursor++
      length++
    }
  }
  return { name: `${name} (synthetic)`, source: 'synthetic', txns, endContent: text }
}

/** Applies one transaction's patches to `text` (the caller wraps it in a Yjs transaction). */
export const applyPatches = (text: Y.Text, patches: Patch[]): void => {
  for (const [pos, del, ins] of patches) {
    if (del > 0) text.delete(pos, del)
    if (ins.length > 0) text.insert(pos, ins)
  }
}

/**
 * Replays transactions [from, to) of `trace` into `text`, one Yjs transaction each, so
 * every transaction emits its own update (as live typing does).
 */
export const replay = (text: Y.Text, trace: Trace, from = 0, to = trace.txns.length): void => {
  const doc = text.doc as Y.Doc
  for (let i = from; i < to; i++) {
    doc.transact(() => applyPatches(text, trace.txns[i] as Patch[]))
  }
}

const finalDocs = new Map<string, Uint8Array>()

/** The whole trace typed into `getText('text')` of a fresh doc, as one update (cached per process). */
export const finalStateOf = (trace: Trace, edits = trace.txns.length): Uint8Array => {
  const key = `${trace.name}:${edits}`
  const cached = finalDocs.get(key)
  if (cached !== undefined) return cached
  const doc = new Y.Doc()
  replay(doc.getText('text'), trace, 0, edits)
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  finalDocs.set(key, update)
  return update
}
