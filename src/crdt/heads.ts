/**
 * Which values of a register are live competitors, and which of them the file shows.
 *
 * Yjs keeps one write of a register and picks it by client id; users expect the later edit to win, and a
 * conflict to list the values that really competed. So a register is read as a multi-value register: its
 * *heads* are the writes no other write had seen, found from the conflict records ("c": pairs of writes
 * that raced, keyed by their item ids) minus what the current value's author had seen (the chain of Yjs
 * origins below it) and minus what a resolution or a later local edit superseded (records marked in "x").
 * The file shows the head written last (`at`, then the writer's Yjs client, then the value: the same on
 * every peer). When Yjs kept another one, the peer that notices writes the latest again — same descriptor,
 * same `at` — and an *alias record* `<node>|<new item>|=<original item>` holding that value twice, so the
 * copy is known as the original write (its author, and what superseding it supersedes). Every peer that
 * notices writes the same value, so the copies never race with each other; old peers read an alias as a
 * record with one value, which adds nothing to what they list.
 *
 * Records written for stale saves (same format) pair the saved value with the one it overwrote, although
 * the saver had seen it: keyed by ids that are not Yjs item ids (say `s<client>:<clock>`), no origin chain
 * supersedes them; the pair stays live until a resolution or a later local edit of the value.
 */
import * as Y from 'yjs'
import { CONFLICTS, RESOLVED, kindOf, type NodeId } from './schema.js'
import { quickScalar } from './datamatch.js'
import type { Tree } from './tree.js'

export type RecordValue = [desc: string, at: number, client: number]
export type ConflictRecord = [a: RecordValue, b: RecordValue]

export const itemKey = (i: Y.Item): string => `${i.id.client}:${i.id.clock}`

/** A node's records, grouped once per listing. */
export interface NodeRecords {
  /** Unresolved records: key, the two item ids, the two values. */
  open: Array<{ key: string; ids: [string, string]; rec: ConflictRecord }>
  /** Item ids that a resolution or a later edit superseded. */
  dead: Set<string>
  /** For each of `dead`, the clients whose resolution or edit superseded it. */
  deadBy?: Map<string, Set<number>>
  /** Copy item id → [original item id, original value]. */
  alias: Map<string, [string, RecordValue]>
}

export function recordsByNode(doc: Y.Doc, only?: Set<NodeId>): Map<NodeId, NodeRecords> {
  const records = doc.getMap<ConflictRecord>(CONFLICTS)
  const resolved = doc.getMap<unknown>(RESOLVED)
  const out = new Map<NodeId, NodeRecords>()
  for (const [key, rec] of records) {
    const node = key.slice(0, key.indexOf('|'))
    if (only && !only.has(node)) continue
    const parts = key.split('|')
    let g = out.get(node)
    if (!g) out.set(node, (g = { open: [], dead: new Set(), alias: new Map() }))
    // Keys not made of item ids (another writer's format) still pair their two values.
    const a = parts[1] ?? `${key}#0`
    const b = parts[2] ?? `${key}#1`
    if (b.startsWith('=')) g.alias.set(a, [b.slice(1), rec[0]])
    else if (resolved.has(key)) {
      g.dead.add(a).add(b)
      const by = (resolved.get(key) as unknown[] | undefined)?.[0]
      if (typeof by === 'number') for (const id of [a, b]) {
        g.deadBy ??= new Map()
        let s = g.deadBy.get(id)
        if (!s) g.deadBy.set(id, (s = new Set()))
        s.add(by)
      }
    }
    else g.open.push({ key, ids: [a, b], rec })
  }
  return out
}

export interface Live {
  /** Heads, one per distinct value, in a deterministic order (oldest first), and their item ids. */
  values: RecordValue[]
  ids: string[]
  /** Index into `values` of what the file shows now, and of what it should show. */
  shown: number
  latest: number
  /** The unresolved records that make up this conflict. */
  records: string[]
}

const later = (a: RecordValue, b: RecordValue) => a[1] - b[1] || a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)

/** The live competitors of a node's value (null when its register is empty). */
export function liveValues(tree: Tree, node: NodeId, g: NodeRecords | undefined): Live | null {
  const cur = tree.item(node, 'v')
  const cv = tree.value(node)
  if (!cur || !cv) return null
  const canon = (id: string) => g?.alias.get(id)?.[0] ?? id
  const curId = itemKey(cur)
  const curValue: RecordValue = [cv[0], cv[1], g?.alias.get(curId)?.[1][2] ?? cur.id.client]
  const cands = new Map<string, RecordValue>([[canon(curId), curValue]])
  for (const o of g?.open ?? []) for (const k of [0, 1] as const) if (!cands.has(canon(o.ids[k]))) cands.set(canon(o.ids[k]), o.rec[k])
  const heads = new Map(cands)
  if (g && cands.size > 1) {
    // A head is a write no other candidate had seen (nor a resolution, nor a later local edit).
    const chain = new Chain(cur)
    // Every write a record knows supersedes what it had seen, live or not (supersession is transitive).
    const known = new Set([...cands.keys(), ...[...g.dead].map(canon), ...[...g.alias.values()].map((a) => a[0])])
    for (const id of known) {
      // The write itself, and the copy of it the register holds now (what that copy was written over).
      const orig = chain.find(id)
      if (orig) for (const s of seenBy(orig, g, chain, Number(id.slice(id.indexOf(':') + 1)))) heads.delete(s)
      if (id === canon(curId) && orig !== cur) for (const s of seenBy(cur, g, chain)) heads.delete(s)
    }
    // A write has seen every earlier write of its own client, whatever its Yjs origin: a save over a peer's
    // value that Yjs placed right of one's own earlier write has no origin path to it, and that earlier value
    // was listed beside the two live ones (copy-credit.test.ts). Copies are named by their originals here.
    const newest = new Map<number, number>()
    for (const id of known) {
      const w = plainId(id)
      if (w && w[1] > (newest.get(w[0]) ?? -1)) newest.set(w[0], w[1])
    }
    for (const id of [...heads.keys()]) {
      const w = plainId(id)
      if (w && w[1] < (newest.get(w[0]) ?? -1)) heads.delete(id)
    }
    for (const id of g.dead) if (!reclaimed(g, id)) heads.delete(canon(id))
    if (heads.size === 0) heads.set(canon(curId), curValue)
  }
  // Equal values written by two peers are one value (the later write of it): equal data, however quoted.
  const byDesc = new Map<string, [string, RecordValue]>()
  for (const [id, v] of heads) {
    const had = byDesc.get(dataKey(v[0]))
    if (!had || later(v, had[1]) > 0) byDesc.set(dataKey(v[0]), [id, v])
  }
  const sorted = [...byDesc.values()].sort((a, b) => later(a[1], b[1]))
  const values = sorted.map((e) => e[1])
  const mine = byDesc.get(dataKey(cv[0]))
  const shown = mine ? sorted.indexOf(mine) : -1
  const latest = values.length - 1
  const records = values.length < 2 || !g ? [] : g.open.map((o) => o.key).sort()
  return { values, ids: sorted.map((e) => e[0]), shown, latest, records }
}

/**
 * What a value descriptor holds, as data: a scalar by its value and type (`Café`, `"Café"` and `'Café'` are one
 * value: two peers requoting one title at once was a conflict between equal values, black-box tester stop 30,
 * finding 6); anything else, and a scalar with an anchor, tag or alias, by its descriptor.
 */
export function dataKey(desc: string): string {
  if (kindOf(desc) !== 'scalar' || /^=[&!*]/.test(desc)) return desc
  try {
    const v = quickScalar(desc.slice(1))
    return v === null || ['string', 'number', 'boolean'].includes(typeof v) ? `=${typeof v}:${String(v)}` : desc
  } catch {
    return desc
  }
}

/** A Yjs item id's client and clock (not a stale save's `s` id, nor another writer's key). */
function plainId(id: string): [number, number] | null {
  const m = /^(\d+):(\d+)$/.exec(id)
  return m ? [Number(m[1]), Number(m[2])] : null
}

/**
 * Is `id`, superseded, named again by an open stale-save record (`s` ids) whose saver superseded it? A stale
 * save's own edit supersedes the records written before it (`supersede`), one of which may name the very value
 * the save overwrote unseen (a value an earlier stale save had recorded); its new record names that value by
 * the same id and says it still competes. Dead by that edit, the value went with no record (join generator
 * worlds 1.5, 600000.4; join-merge seed 801168). Superseded by another peer's resolution or edit, it stays dead.
 */
function reclaimed(g: NodeRecords, id: string): boolean {
  const by = g.deadBy?.get(id)
  if (!by || !id.startsWith('s')) return false
  const client = (x: string) => Number(x.slice(1, x.indexOf(':')))
  return g.open.some((o) => o.ids.includes(id) && o.ids.some((x) => x !== id && x.startsWith('s') && by.has(client(x))))
}

/** The items of one register (its Yjs chain), found by id. */
export class Chain {
  private readonly byClient = new Map<number, Y.Item[]>()
  constructor(cur: Y.Item) {
    for (let it: Y.Item | null = cur; it; it = it.left) {
      let l = this.byClient.get(it.id.client)
      if (!l) this.byClient.set(it.id.client, (l = []))
      l.push(it)
    }
  }
  at(client: number, clock: number): Y.Item | undefined {
    return this.byClient.get(client)?.find((l) => l.id.clock <= clock && clock < l.id.clock + l.length)
  }
  find(id: string): Y.Item | undefined {
    const c = id.indexOf(':')
    return c < 0 ? undefined : this.at(Number(id.slice(0, c)), Number(id.slice(c + 1)))
  }
}

/**
 * Item ids (canonical) the author of `from` had seen: the Yjs origins below it. A copy made by the
 * later-wins rule supersedes nothing (its origin still competes); a real write supersedes all below it.
 */
export function seenBy(from: Y.Item, g: NodeRecords, chain: Chain, clock = from.id.clock): Set<string> {
  const canon = (id: string) => g.alias.get(id)?.[0] ?? id
  const out = new Set<string>()
  let real = !g.alias.has(`${from.id.client}:${clock}`)
  // A merged run of one client's consecutive writes: each one saw the ones before it.
  const run = (client: number, top: number, bottom: number) => {
    for (let k = top; k >= bottom; k--) {
      const id = `${client}:${k}`
      if (real) out.add(canon(id))
      if (!g.alias.has(id)) real = true
    }
  }
  run(from.id.client, clock - 1, from.id.clock)
  let it: Y.Item | undefined = from
  const visited = new Set<Y.Item>()
  while (it && !visited.has(it)) {
    visited.add(it)
    const o: Y.ID | null = it.origin
    if (!o) break
    const found = chain.at(o.client, o.clock)
    if (!found) break
    run(o.client, o.clock, found.id.clock)
    it = found
  }
  return out
}
