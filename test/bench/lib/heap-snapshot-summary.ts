/**
 * Summarises a V8 heap snapshot (.heapsnapshot, e.g. from the memory scenario with
 * BENCH_HEAP_SNAPSHOT_DIR set): self size and count per constructor (node type + name),
 * largest first, and per document when `--docs N` is given (what each open document
 * costs, object by object).
 *
 *   node test/bench/dist/lib/heap-snapshot-summary.js FILE.heapsnapshot [--docs 1000] [--top 30]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

export const summarizeHeap = (s: Snapshot, top: number, docs: number): string => {
  const fields = s.snapshot.meta.node_fields
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const types = s.snapshot.meta.node_types[0]
  const groups = new Map<string, { size: number; count: number }>()
  let total = 0
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt] as number] as string
    let name = s.strings[s.nodes[i + nameAt] as number] as string
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(strings)'
    if (type === 'number') name = '(heap numbers)'
    if (name.length > 60) name = `${name.slice(0, 57)}…`
    const key = `${type} ${name}`
    const size = s.nodes[i + sizeAt] as number
    total += size
    const g = groups.get(key) ?? { size: 0, count: 0 }
    g.size += size
    g.count++
    groups.set(key, g)
  }
  const rows = [...groups.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, top)
  const perDoc = docs > 0 ? ` (per doc: ${(total / docs / 1024).toFixed(1)} KiB)` : ''
  return [
    `total self size ${(total / 2 ** 20).toFixed(1)} MiB${perDoc}`,
    `${'KiB'.padStart(9)} ${'count'.padStart(9)}${docs > 0 ? `${'B/doc'.padStart(9)}${'n/doc'.padStart(7)}` : ''}  type name`,
    ...rows.map(([k, g]) => {
      const d = docs > 0 ? `${(g.size / docs).toFixed(0).padStart(9)}${(g.count / docs).toFixed(1).padStart(7)}` : ''
      return `${(g.size / 1024).toFixed(0).padStart(9)} ${String(g.count).padStart(9)}${d}  ${k}`
    }),
  ].join('\n')
}

const isMain = process.argv[1]?.endsWith('heap-snapshot-summary.js') === true
if (isMain) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, docs: { type: 'string', default: '0' } },
  })
  for (const file of positionals) {
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
    process.stdout.write(`# ${file}\n${summarizeHeap(snapshot, Number(values.top), Number(values.docs))}\n\n`)
  }
}
