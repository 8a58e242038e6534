/**
 * What a process kept between two of its heap snapshots (e.g. the memory scenario's
 * `-before` and `-unloaded`, BENCH_HEAP_SNAPSHOT_DIR): the objects of AFTER whose V8 object
 * id is not in BEFORE (a process keeps an object's id across its snapshots), grouped by
 * kind (node type + name) and by owner (the object that holds each on a shortest path from
 * the roots, and by which edge), and the retainer path of the largest. Code objects
 * (optimised code, its deoptimisation data, relocation info) are the JIT's; "array" under
 * "WeakMap -table->" is a WeakMap's hash table, which keeps its largest size until a delete.
 *
 *   node --max-old-space-size=4096 test/bench/dist/lib/heap-snapshot-diff.js BEFORE AFTER [--top 40] [--paths 20]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[]
      edge_fields: string[]
      node_types: [string[], ...unknown[]]
      edge_types: [string[], ...unknown[]]
    }
  }
  nodes: number[]
  edges: number[]
  strings: string[]
}

/** A snapshot with field offsets resolved. */
class Heap {
  readonly count: number
  private readonly w: number
  private readonly ew: number
  private readonly at: Record<'type' | 'name' | 'id' | 'size' | 'edges', number>
  private readonly eat: Record<'type' | 'name' | 'to', number>
  /** Index of each node's first edge (edges are stored in node order). */
  readonly firstEdge: Uint32Array

  constructor(readonly s: RawSnapshot) {
    const { node_fields: nf, edge_fields: ef } = s.snapshot.meta
    this.w = nf.length
    this.ew = ef.length
    this.at = {
      type: nf.indexOf('type'),
      name: nf.indexOf('name'),
      id: nf.indexOf('id'),
      size: nf.indexOf('self_size'),
      edges: nf.indexOf('edge_count'),
    }
    this.eat = { type: ef.indexOf('type'), name: ef.indexOf('name_or_index'), to: ef.indexOf('to_node') }
    this.count = s.nodes.length / this.w
    this.firstEdge = new Uint32Array(this.count + 1)
    for (let i = 0; i < this.count; i++)
      this.firstEdge[i + 1] = (this.firstEdge[i] as number) + (s.nodes[i * this.w + this.at.edges] as number)
  }

  type = (i: number) => this.s.snapshot.meta.node_types[0][this.s.nodes[i * this.w + this.at.type] as number] as string
  name = (i: number) => this.s.strings[this.s.nodes[i * this.w + this.at.name] as number] as string
  id = (i: number) => this.s.nodes[i * this.w + this.at.id] as number
  size = (i: number) => this.s.nodes[i * this.w + this.at.size] as number
  edgeTo = (e: number) => (this.s.edges[e * this.ew + this.eat.to] as number) / this.w
  edgeType = (e: number) =>
    this.s.snapshot.meta.edge_types[0][this.s.edges[e * this.ew + this.eat.type] as number] as string
  edgeName = (e: number): string => {
    const t = this.edgeType(e)
    const v = this.s.edges[e * this.ew + this.eat.name] as number
    return t === 'element' || t === 'hidden' ? '[n]' : `${t}:${this.s.strings[v]}`
  }

  /** Kind of node `i`: type and name (strings and numbers pooled, long names cut). */
  kind = (i: number): string => {
    const type = this.type(i)
    let name = this.name(i)
    if (type.endsWith('string')) name = '(strings)'
    else if (type === 'number') name = '(heap numbers)'
    return `${type} ${name.length > 50 ? `${name.slice(0, 47)}…` : name}`
  }

  /** A shortest path from the root to every node over strong edges: each node's parent and edge. */
  shortestPaths(): { parent: Int32Array; via: Int32Array } {
    const parent = new Int32Array(this.count).fill(-1)
    const via = new Int32Array(this.count).fill(-1)
    const queue = [0]
    parent[0] = 0
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q] as number
      for (let e = this.firstEdge[i] as number; e < (this.firstEdge[i + 1] as number); e++) {
        if (this.edgeType(e) === 'weak') continue
        const to = this.edgeTo(e)
        if (parent[to] !== -1) continue
        parent[to] = i
        via[to] = e
        queue.push(to)
      }
    }
    return { parent, via }
  }
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1).padStart(9)

const add = (m: Map<string, { size: number; count: number }>, key: string, size: number) => {
  const g = m.get(key) ?? { size: 0, count: 0 }
  g.size += size
  g.count++
  m.set(key, g)
}

const largest = (m: Map<string, { size: number; count: number }>, top: number) =>
  [...m.entries()]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, top)
    .map(([k, g]) => `${kib(g.size)} ${String(g.count).padStart(7)}  ${k}`)

export const diffHeaps = (before: RawSnapshot, after: RawSnapshot, top: number, paths: number): string => {
  const b = new Heap(before)
  const ids = new Set<number>()
  let beforeTotal = 0
  for (let i = 0; i < b.count; i++) {
    ids.add(b.id(i))
    beforeTotal += b.size(i)
  }
  const a = new Heap(after)
  const { parent, via } = a.shortestPaths()
  const byKind = new Map<string, { size: number; count: number }>()
  const byOwner = new Map<string, { size: number; count: number }>()
  const fresh: number[] = []
  let afterTotal = 0
  let freshTotal = 0
  for (let i = 0; i < a.count; i++) {
    afterTotal += a.size(i)
    if (ids.has(a.id(i))) continue
    const type = a.type(i)
    // Native and synthetic nodes (the embedder's) are outside V8's heapUsed.
    if (type === 'native' || type === 'synthetic') continue
    freshTotal += a.size(i)
    fresh.push(i)
    add(byKind, a.kind(i), a.size(i))
    const p = parent[i] as number
    const owner = p < 0 ? '(unreachable)' : `${a.kind(p)} -${a.edgeName(via[i] as number)}->`
    add(byOwner, `${a.kind(i)}  <=  ${owner}`, a.size(i))
  }
  const pathOf = (i: number): string => {
    const steps: string[] = []
    for (let n = i, k = 0; n > 0 && k < 12; n = parent[n] as number, k++) {
      const edge = (via[n] as number) < 0 ? '' : ` <-${a.edgeName(via[n] as number)}-`
      steps.push(`${a.kind(n)}${ids.has(a.id(n)) ? '' : ' (new)'} (${a.size(n)} B)${edge}`)
    }
    return steps.join('\n    ')
  }
  fresh.sort((x, y) => a.size(y) - a.size(x))
  return [
    `self sizes: before ${kib(beforeTotal)} KiB, after ${kib(afterTotal)} KiB; objects new in after (V8 heap): ${kib(freshTotal)} KiB`,
    '',
    `new objects by kind (KiB, count):`,
    ...largest(byKind, top),
    '',
    'new objects by kind and owner (KiB, count):',
    ...largest(byOwner, top),
    '',
    `the ${paths} largest new objects, each with a shortest retainer path (owner below):`,
    ...fresh.slice(0, paths).map((i) => `  ${pathOf(i)}`),
  ].join('\n')
}

const isMain = process.argv[1]?.endsWith('heap-snapshot-diff.js') === true
if (isMain) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '40' }, paths: { type: 'string', default: '20' } },
  })
  const [beforeFile, afterFile] = positionals
  if (beforeFile === undefined || afterFile === undefined) throw new Error('usage: heap-snapshot-diff.js BEFORE AFTER')
  const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as RawSnapshot
  process.stdout.write(`${diffHeaps(read(beforeFile), read(afterFile), Number(values.top), Number(values.paths))}\n`)
}
