/**
 * Summarises V8 CPU profiles (.cpuprofile, from node --cpu-prof, e.g. a server run with
 * BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"): the functions with the most
 * self time, and the same grouped by package (node_modules/<pkg>, packages/<pkg>, node:).
 *
 *   node test/bench/dist/lib/cpu-profile-summary.js FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

/** Where a function lives: a package name, "node:…", "(program)"/"(garbage collector)", or the file. */
export const packageOf = (url: string, name: string): string => {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  if (url.startsWith('node:')) return 'node:'
  const nm = /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(
    url.replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, 'node_modules/'),
  )
  if (nm !== null) return nm[1] as string
  const pkg = /\/packages\/([^/]+)\//.exec(url)
  if (pkg !== null) return `@converge/${pkg[1]}`
  return url.replace(/^file:\/\//, '')
}

export const summarize = (profile: Profile, top: number): string => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const keyOf = (id: number) => {
    const f = (byId.get(id) as ProfileNode).callFrame
    const file = f.url.replace(/.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/)/, '')
    return `${f.functionName || '(anonymous)'}  ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`
  }
  const byFunction = new Map<string, number>()
  const byPackage = new Map<string, number>()
  // Total (inclusive) time: each function counted once per sampled stack it is on.
  const inclusive = new Map<string, number>()
  for (const [id, us] of self) {
    const f = (byId.get(id) as ProfileNode).callFrame
    const key = keyOf(id)
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    const pkg = packageOf(f.url, f.functionName)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us)
    const onStack = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) onStack.add(keyOf(at))
    for (const k of onStack) inclusive.set(k, (inclusive.get(k) ?? 0) + us)
  }
  inclusive.delete('(root)  ')
  const lines = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      )
  return [
    `sampled ${(total / 1e6).toFixed(2)} s of ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s`,
    '',
    'self time by package:',
    ...lines(byPackage, 15),
    '',
    `top ${top} functions by self time:`,
    ...lines(byFunction, top),
    '',
    `top ${top} functions by total time (self + callees):`,
    ...lines(inclusive, top),
  ].join('\n')
}

const isMain = process.argv[1]?.endsWith('cpu-profile-summary.js') === true
if (isMain) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  })
  for (const file of positionals) {
    process.stdout.write(
      `# ${file}\n${summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top))}\n\n`,
    )
  }
}
