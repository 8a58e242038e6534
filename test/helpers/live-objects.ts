/** Counting live objects in this process's heap, for tests that state what memory holds. */
import { getHeapSnapshot } from 'node:v8'

/** Live objects per constructor name, from a heap snapshot (taking one collects garbage first). */
export const liveObjects = async (names: string[]): Promise<Record<string, number>> => {
  const chunks: string[] = []
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as string)
  const snap = JSON.parse(chunks.join('')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = snap.snapshot.meta.node_fields
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const objectType = snap.snapshot.meta.node_types[0].indexOf('object')
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]))
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    if (snap.nodes[i + typeAt] !== objectType) continue
    const name = snap.strings[snap.nodes[i + nameAt] as number] as string
    if (name in counts) counts[name] = (counts[name] as number) + 1
  }
  return counts
}
