/**
 * Conflicts: concurrent writes of one value, and deletions that raced an edit.
 *
 * Yjs resolves a concurrent write of one map key by keeping one item and silently discarding the other.
 * We catch the moment: right after a remote transaction is integrated (and before Yjs garbage-collects
 * the loser's content) we look at every value register it touched. A write that the current value's
 * author had not seen (it is not among the current item's origins) lost a race: both values are recorded
 * in the synced map "c", keyed by the pair of item ids, so every peer that notices the race writes the
 * same record and every peer lists the same conflicts. Resolutions are synced markers in map "x".
 *
 * Delete-versus-edit conflicts need no record: they are derived from tombstones (see `Tree.isRevived`).
 */
import * as Y from 'yjs'
import { MAX_WALK } from './limits.js'
import { AUTHORS, CONFLICTS, RESOLVED, kindOf, type NodeId, type Value } from './schema.js'
import type { Tree } from './tree.js'

export type RecordValue = [desc: string, at: number, client: number]
export type ConflictRecord = [a: RecordValue, b: RecordValue]

const itemKey = (i: Y.Item) => `${i.id.client}:${i.id.clock}`

function itemValue(i: Y.Item): Value | undefined {
  const c = i.content as unknown as { arr?: unknown[] }
  return Array.isArray(c.arr) ? (c.arr[0] as Value) : undefined
}

/** Finds value races in one integrated remote transaction. Call from `afterTransaction`. */
export function detectRaces(tree: Tree, tr: Y.Transaction): Array<[key: string, rec: ConflictRecord]> {
  const keys = tr.changed.get(tree.map as unknown as Y.AbstractType<Y.YEvent<any>>)
  if (!keys) return []
  const out: Array<[string, ConflictRecord]> = []
  for (const key of keys) {
    if (key === null || !key.endsWith('v')) continue
    const current = tree.item(key.slice(0, -1), 'v')
    if (!current) continue
    const chain: Y.Item[] = []
    for (let it: Y.Item | null = current; it; it = it.left) chain.push(it)
    const isNew = (i: Y.Item) => i.id.clock >= (tr.beforeState.get(i.id.client) ?? 0)
    if (!chain.some(isNew)) continue
    const before = chain.find((i) => !isNew(i))
    const seen = ancestry(current, chain)
    const candidates = chain.filter((i) => i !== current && (isNew(i) || i === before))
    const cv = itemValue(current)
    if (!cv) continue
    for (const c of candidates) {
      if (seen.has(c)) continue
      const v = itemValue(c)
      if (!v || v[0] === cv[0]) continue
      // Two collection descriptors (e.g. a flow list's closing spaces vs block style) are formatting.
      if (isStructural(v[0]) && isStructural(cv[0])) continue
      const a: RecordValue = [v[0], v[1], c.id.client]
      const b: RecordValue = [cv[0], cv[1], current.id.client]
      const [ka, kb] = [itemKey(c), itemKey(current)]
      const rec: ConflictRecord = ka < kb ? [a, b] : [b, a]
      out.push([`${key.slice(0, -1)}|${ka < kb ? ka : kb}|${ka < kb ? kb : ka}`, rec])
    }
  }
  return out
}

function isStructural(desc: string): boolean {
  const k = kindOf(desc)
  return k === 'map' || k === 'seq' || k === 'fseq' || k === 'fmap'
}

/** Items the author of `item` had seen: its origin, that item's origin, and so on. */
function ancestry(item: Y.Item, chain: Y.Item[]): Set<Y.Item> {
  const out = new Set<Y.Item>()
  let cur: Y.Item | undefined = item
  while (cur && !out.has(cur)) {
    out.add(cur)
    const o: Y.ID | null = cur.origin
    if (!o) break
    cur = chain.find((i) => i.id.client === o.client && i.id.clock <= o.clock && o.clock < i.id.clock + i.length)
  }
  return out
}

export function conflictMaps(doc: Y.Doc) {
  return {
    records: doc.getMap<ConflictRecord>(CONFLICTS),
    resolved: doc.getMap<unknown>(RESOLVED),
    authors: doc.getMap<[string, string, string]>(AUTHORS),
  }
}

export interface RawConflict {
  node: NodeId
  kind: 'value' | 'delete'
  /** Record keys this conflict is made of (resolved together). */
  records: string[]
  values: RecordValue[]
  /** Index into `values` of what the file shows now. */
  winner: number
}

/** Unresolved conflicts of visible nodes, values in a deterministic order. */
export function listRaw(tree: Tree): RawConflict[] {
  const { records, resolved } = conflictMaps(tree.doc)
  const byNode = new Map<NodeId, { keys: string[]; values: RecordValue[] }>()
  for (const [key, rec] of records) {
    if (resolved.has(key)) continue
    const node = key.slice(0, key.indexOf('|'))
    if (!tree.has(node) || !tree.alive(node) || !visibleChain(tree, node)) continue
    let g = byNode.get(node)
    if (!g) byNode.set(node, (g = { keys: [], values: [] }))
    g.keys.push(key)
    g.values.push(...rec)
  }
  const out: RawConflict[] = []
  for (const [node, g] of byNode) {
    const cur = tree.item(node, 'v')
    const cv = tree.value(node)
    if (cur && cv) g.values.push([cv[0], cv[1], cur.id.client])
    const values = dedupe(g.values)
    const winner = cur && cv ? values.findIndex((v) => v[0] === cv[0] && v[2] === cur.id.client && v[1] === cv[1]) : 0
    if (new Set(values.map((v) => v[0])).size < 2) continue
    out.push({ node, kind: 'value', records: g.keys.sort(), values, winner: Math.max(0, winner) })
  }
  for (const node of revivedNodes(tree)) {
    const t = tree.tombstone(node)!
    const ti = tree.item(node, 'd')!
    const edit = tree.item(node, 'v')
    const values: RecordValue[] = [
      ['\u0000deleted', t[1], ti.id.client],
      [tree.desc(node) ?? '', tree.value(node)?.[1] ?? 0, edit?.id.client ?? 0],
    ]
    out.push({ node, kind: 'delete', records: [], values, winner: 1 })
  }
  return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
}

function dedupe(values: RecordValue[]): RecordValue[] {
  const seen = new Map<string, RecordValue>()
  for (const v of values) seen.set(`${v[2]}|${v[1]}|${v[0]}`, v)
  return [...seen.values()].sort((a, b) => a[1] - b[1] || a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** A node is shown only if all its ancestors are. */
function visibleChain(tree: Tree, node: NodeId): boolean {
  let cur = tree.placement(node)?.[0]
  for (let n = 0; cur && cur !== 'R'; n++) {
    if (n > MAX_WALK) return false
    if (!tree.alive(cur)) return false
    cur = tree.placement(cur)?.[0]
  }
  return true
}

/** Set elements are add-wins by rule: re-adding one that another peer removed is not a conflict. */
function inSet(tree: Tree, node: NodeId): boolean {
  const parent = tree.placement(node)?.[0]
  return parent !== undefined && tree.placement(node)!.length === 2 && tree.rules.at(tree.rulePath(parent)).merge === 'set'
}

function revivedNodes(tree: Tree): NodeId[] {
  const out: NodeId[] = []
  for (const [key, v] of tree.map) {
    if (!key.endsWith('d') || !v) continue
    const node = key.slice(0, -1)
    if (tree.isRevived(node) && visibleChain(tree, node) && !inSet(tree, node)) out.push(node)
  }
  return out
}
