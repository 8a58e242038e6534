import fc from 'fast-check'
import { type Cluster, DOC_NAMES } from './cluster.js'
import { type EditOp, editOpArb } from './doc-edits.js'

/**
 * The commands of a run. The cluster is the only state: its invariants are checked at
 * quiescence, so the model is empty and every command applies to whatever the cluster
 * holds when it runs (indices are taken modulo the number of nodes, links, updates).
 */
export type Model = Record<string, never>
type Command = fc.AsyncCommand<Model, Cluster>

abstract class ClusterCommand implements Command {
  check(): boolean {
    return true
  }
  async run(_m: Model, cluster: Cluster): Promise<void> {
    cluster.commandStarted(this.toString())
    await this.apply(cluster)
    await cluster.checkDurableBeforeVisible()
  }
  abstract apply(cluster: Cluster): void | Promise<void>
  abstract toString(): string
}

class Edit extends ClusterCommand {
  constructor(
    readonly client: number,
    readonly doc: string,
    readonly ops: EditOp[],
  ) {
    super()
  }
  apply(c: Cluster) {
    c.edit(this.client, this.doc, this.ops)
  }
  toString() {
    return `edit(client ${this.client}, ${this.doc}, ${JSON.stringify(this.ops)})`
  }
}

class Deliver extends ClusterCommand {
  constructor(readonly frames: number) {
    super()
  }
  apply(c: Cluster) {
    return c.deliver(this.frames)
  }
  toString() {
    return `deliver(${this.frames})`
  }
}

class Flush extends ClusterCommand {
  constructor(readonly node: number) {
    super()
  }
  apply(c: Cluster) {
    c.flush(this.node)
  }
  toString() {
    return `flush(node ${this.node})`
  }
}

class Tick extends ClusterCommand {
  constructor(readonly ms: number) {
    super()
  }
  apply(c: Cluster) {
    return c.tick(this.ms)
  }
  toString() {
    return `tick(${this.ms} ms)`
  }
}

class CutLink extends ClusterCommand {
  constructor(readonly link: number) {
    super()
  }
  apply(c: Cluster) {
    c.cutLink(this.link)
  }
  toString() {
    return `cutLink(${this.link})`
  }
}

class Partition extends ClusterCommand {
  constructor(readonly groupOf: number[]) {
    super()
  }
  apply(c: Cluster) {
    c.partition(this.groupOf)
  }
  toString() {
    return `partition(${JSON.stringify(this.groupOf)})`
  }
}

class Heal extends ClusterCommand {
  apply(c: Cluster) {
    c.heal()
  }
  toString() {
    return 'heal()'
  }
}

class Crash extends ClusterCommand {
  constructor(readonly node: number) {
    super()
  }
  apply(c: Cluster) {
    c.crash(this.node)
  }
  toString() {
    return `crash(node ${this.node})`
  }
}

class Restart extends ClusterCommand {
  constructor(readonly node: number) {
    super()
  }
  apply(c: Cluster) {
    return c.restart(this.node)
  }
  toString() {
    return `restart(node ${this.node})`
  }
}

class FailNextFlush extends ClusterCommand {
  constructor(readonly node: number) {
    super()
  }
  apply(c: Cluster) {
    c.failNextFlush(this.node)
  }
  toString() {
    return `failNextFlush(node ${this.node})`
  }
}

class AdminWrite extends ClusterCommand {
  constructor(
    readonly relay: number,
    readonly doc: string,
    readonly ops: EditOp[],
  ) {
    super()
  }
  apply(c: Cluster) {
    c.adminWrite(this.relay, this.doc, this.ops)
  }
  toString() {
    return `adminWrite(relay ${this.relay}, ${this.doc}, ${JSON.stringify(this.ops)})`
  }
}

class Ghost extends ClusterCommand {
  constructor(
    readonly relay: number,
    readonly update: number,
  ) {
    super()
  }
  apply(c: Cluster) {
    c.ghost(this.relay, this.update)
  }
  toString() {
    return `ghost(relay ${this.relay}, update ${this.update})`
  }
}

class ToggleDoc extends ClusterCommand {
  constructor(
    readonly client: number,
    readonly doc: string,
  ) {
    super()
  }
  apply(c: Cluster) {
    return c.toggleDoc(this.client, this.doc)
  }
  toString() {
    return `toggleDoc(client ${this.client}, ${this.doc})`
  }
}

class Compact extends ClusterCommand {
  constructor(
    readonly node: number,
    readonly doc: string,
  ) {
    super()
  }
  apply(c: Cluster) {
    return c.compact(this.node, this.doc)
  }
  toString() {
    return `compact(node ${this.node}, ${this.doc})`
  }
}

/**
 * Which faults a property injects, beyond edits, delivery, flushes and time, each as a
 * weight multiplier (0 or absent: never; 1: the usual share; more: more often).
 */
export interface Faults {
  /** Cut links (in-flight frames lost), partition and heal. */
  network?: number
  /** Crash and restart nodes; failing flushes. */
  crashes?: number
  /** Ghost peers replaying durable updates over fresh connections. */
  ghosts?: number
  /** Writes through a relay's admin API (`Replica.applyUpdate`). */
  adminWrites?: number
  /** Clients closing and reopening documents; stores compacting. */
  churn?: number
}

const node = fc.nat({ max: 11 })
const client = fc.nat({ max: 11 })
const doc = fc.constantFrom(...DOC_NAMES)

/**
 * The commands a run draws from, weighted so that edits and deliveries dominate and
 * faults stay rare enough for work to happen between them. One arbitrary: fc.commands
 * would pick among several with equal odds.
 */
export const commandArb = (faults: Faults): fc.Arbitrary<Command> => {
  const arbs: Array<fc.WeightedArbitrary<Command>> = [
    {
      weight: 30,
      arbitrary: fc
        .tuple(client, doc, fc.array(editOpArb, { minLength: 1, maxLength: 3 }))
        .map(([c, d, ops]) => new Edit(c, d, ops)),
    },
    // Few frames at a time, often: store answers are released only between commands.
    { weight: 20, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => new Deliver(n)) },
    { weight: 10, arbitrary: fc.integer({ min: 5, max: 60 }).map((n) => new Deliver(n)) },
    { weight: 10, arbitrary: node.map((n) => new Flush(n)) },
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 25 }).map((ms) => new Tick(ms)) },
  ]
  const add = (share: number | undefined, weight: number, arbitrary: fc.Arbitrary<Command>) => {
    if (share !== undefined && share > 0) arbs.push({ weight: Math.max(1, Math.round(weight * share)), arbitrary })
  }
  add(
    faults.network,
    3,
    fc.nat({ max: 30 }).map((l) => new CutLink(l)),
  )
  add(
    faults.network,
    2,
    fc.array(fc.nat({ max: 2 }), { minLength: 2, maxLength: 8 }).map((g) => new Partition(g)),
  )
  add(faults.network, 3, fc.constant(new Heal()))
  add(
    faults.crashes,
    2,
    node.map((n) => new Crash(n)),
  )
  add(
    faults.crashes,
    3,
    node.map((n) => new Restart(n)),
  )
  add(
    faults.crashes,
    1,
    node.map((n) => new FailNextFlush(n)),
  )
  add(
    faults.ghosts,
    3,
    fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 1000 })).map(([r, u]) => new Ghost(r, u)),
  )
  add(
    faults.adminWrites,
    3,
    fc
      .tuple(fc.nat({ max: 5 }), doc, fc.array(editOpArb, { minLength: 1, maxLength: 2 }))
      .map(([r, d, ops]) => new AdminWrite(r, d, ops)),
  )
  add(
    faults.churn,
    2,
    fc.tuple(client, doc).map(([c, d]) => new ToggleDoc(c, d)),
  )
  add(
    faults.churn,
    1,
    fc.tuple(node, doc).map(([n, d]) => new Compact(n, d)),
  )
  return fc.oneof(...arbs)
}
