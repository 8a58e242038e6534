/**
 * Cold-load timing, run in a process of its own so the replay's heap (hundreds of
 * thousands of updates) does not slow Yjs down. For each run, after uncounted rounds that
 * warm the JIT up, interleaved: a bare
 * Y.applyUpdate of the encoded state, then each store opened on its directory and its
 * document loaded into a fresh Y.Doc. Prints one JSON object: { name: [ms per run] }, where
 * `name` times the load from the open store and `name with open` adds opening the database.
 *
 *   node cold-load.js <state file> <doc> <runs> <text length> converge=<dir> y-leveldb=<dir>
 */
import { readFile } from 'node:fs/promises'
import * as Y from 'yjs'
import { type ColdLoad, convergeColdLoad, yLeveldbColdLoad } from './store-targets.js'

/** Uncounted rounds before the timed ones. */
const WARM_UP_ROUNDS = 3

const loaders: Record<string, ColdLoad> = { converge: convergeColdLoad, 'y-leveldb': yLeveldbColdLoad }

const main = async () => {
  const [stateFile, doc, runsArg, lengthArg, ...stores] = process.argv.slice(2)
  if (stateFile === undefined || doc === undefined)
    throw new Error('usage: cold-load.js <state> <doc> <runs> <length> name=dir...')
  const state = new Uint8Array(await readFile(stateFile))
  const runs = Number(runsArg ?? 15)
  const textLength = Number(lengthArg)
  const targets = stores.map((s) => {
    const at = s.indexOf('=')
    const name = s.slice(0, at)
    const load = loaders[name]
    if (load === undefined) throw new Error(`unknown store ${name}`)
    return { name, dir: s.slice(at + 1), load }
  })
  const times: Record<string, number[]> = {
    bare: [],
    ...Object.fromEntries(
      targets.flatMap((t) => [
        [t.name, []],
        [`${t.name} with open`, []],
      ]),
    ),
  }
  const bare = async () => {
    const started = performance.now()
    const ydoc = new Y.Doc()
    Y.applyUpdate(ydoc, state)
    const ms = performance.now() - started
    ydoc.destroy()
    return { name: 'bare', ms }
  }
  const loads = targets.map(({ name, dir, load }) => async () => {
    const { doc: loaded, openMs, loadMs, close } = await load(dir, doc)
    await close()
    const length = loaded.getText('text').length
    loaded.destroy()
    if (length !== textLength)
      throw new Error(`${name}: the cold-loaded text has ${length} characters, not ${textLength}`)
    return { name, ms: loadMs, openMs }
  })
  // The first rounds warm the JIT up and are not counted: a relay that loads a document is
  // a warm process. The order alternates, so no contender always runs right after another.
  for (let round = -WARM_UP_ROUNDS; round < runs; round++) {
    const order = round % 2 === 0 ? [bare, ...loads] : [...loads, bare]
    for (const run of order) {
      const { name, ms, openMs } = (await run()) as { name: string; ms: number; openMs?: number }
      if (round < 0) continue
      times[name]?.push(ms)
      if (openMs !== undefined) times[`${name} with open`]?.push(openMs + ms)
    }
  }
  process.stdout.write(`${JSON.stringify(times)}\n`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
