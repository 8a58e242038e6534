/**
 * Where a server's allocations came from between two sampling heap profiles (Chrome
 * DevTools `.heapprofile`, as the memory probe writes them with BENCH_HEAP_SAMPLING_FILE;
 * with BENCH_HEAP_SAMPLING_MINOR=1 they hold every allocation, garbage included). The
 * profiles are cumulative, so `after` minus `before` is what the phase between the two
 * readings allocated: per function (self, and inclusive: everything allocated below it)
 * and per package, in KiB per document with `--docs N`.
 *
 *   node test/bench/dist/lib/heap-profile-summary.js [--docs N] [--top N] BEFORE.heapprofile AFTER.heapprofile
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { cliArgs, intArg } from './bench-args.js'
import { table } from './report.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  callFrame: CallFrame
  selfSize: number
  children: ProfileNode[]
}

interface Sums {
  self: Map<string, number>
  inclusive: Map<string, number>
  byPackage: Map<string, number>
  total: number
}

const where = (f: CallFrame): string => {
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '')
  const short = file.replace(/^.*\/(packages|test)\//, '$1/')
  return `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`
}

/** What a frame belongs to: a converge package, a dependency by name, node's own code, or V8. */
const packageOf = (url: string): string => {
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (dep !== null) return dep[1] ?? url
  const own = /\/(packages\/[^/]+|test\/[^/]+)\//.exec(url)
  if (own !== null) return own[1] ?? url
  if (url.startsWith('node:')) return 'node'
  return url === '' ? '(V8 / native)' : url
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)

/** Sums a profile's self sizes per function and package, and inclusive sizes (each function once per path). */
const sums = (file: string): Sums => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode }
  const s: Sums = { self: new Map(), inclusive: new Map(), byPackage: new Map(), total: 0 }
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    const key = where(node.callFrame)
    add(s.self, key, node.selfSize)
    // The nearest frame with a url names the package (builtins carry none).
    add(s.byPackage, packageOf(node.callFrame.url), node.selfSize)
    s.total += node.selfSize
    const fresh = !onPath.has(key)
    if (fresh) onPath.add(key)
    let size = node.selfSize
    for (const child of node.children) size += walk(child, onPath)
    if (fresh) {
      onPath.delete(key)
      add(s.inclusive, key, size)
    }
    return size
  }
  walk(profile.head, new Set())
  return s
}

const { values: args, positionals } = parseArgs({
  args: cliArgs(),
  options: { docs: { type: 'string' }, top: { type: 'string' } },
  allowPositionals: true,
})
const [beforeFile, afterFile] = positionals
if (beforeFile === undefined || afterFile === undefined) {
  throw new Error('usage: heap-profile-summary.js [--docs N] [--top N] BEFORE.heapprofile AFTER.heapprofile')
}
const docs = intArg(args.docs, 1)
const top = intArg(args.top, 25)
const before = sums(beforeFile)
const after = sums(afterFile)
const perDoc = (bytes: number) => bytes / 1024 / docs
const diff = (a: Map<string, number>, b: Map<string, number>) =>
  [...a.entries()]
    .map(([k, v]) => [k, v - (b.get(k) ?? 0)] as const)
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])

const unit = docs === 1 ? 'KiB' : 'KiB/doc'
process.stdout.write(
  `sampled allocations between the two profiles: ${perDoc(after.total - before.total).toFixed(1)} ${unit}\n\n`,
)
process.stdout.write(
  `${table(
    ['package', unit],
    diff(after.byPackage, before.byPackage)
      .slice(0, top)
      .map(([k, v]) => [k, perDoc(v)]),
  )}\n\n`,
)
process.stdout.write(
  `${table(
    ['function (self)', unit],
    diff(after.self, before.self)
      .slice(0, top)
      .map(([k, v]) => [k, perDoc(v)]),
  )}\n\n`,
)
process.stdout.write(
  `${table(
    ['function (inclusive)', unit],
    diff(after.inclusive, before.inclusive)
      .slice(0, top)
      .map(([k, v]) => [k, perDoc(v)]),
  )}\n`,
)
