/**
 * Conflicts: concurrent writes of one value, and deletions that raced an edit.
 *
 * Yjs resolves a concurrent write of one map key by keeping one item and silently discarding the other.
 * We catch the moment: right after a remote transaction is integrated (and before Yjs garbage-collects
 * the loser's content) we look at every value register it touched. A write that the current value's
 * author had not seen (it is not among the current item's origins) lost a race: both values are recorded
 * in the synced map "c", keyed by the pair of item ids, so every peer that notices the race writes the
 * same record and every peer lists the same conflicts. Resolutions are synced markers in map "x"; a local
 * edit of a value marks its node's records the same way (the editor saw them: they are superseded).
 * Which recorded values still compete, and which one the file shows (the latest), is `heads.ts`.
 *
 * A loser's content is gone once its peer garbage-collects it, and a peer forwards it without content: so
 * whoever overwrites a live value records it first — Yjs's loser at integration (above), and the value a
 * later-wins copy replaces (`flush`). A peer that never saw the content learns it from those records.
 *
 * Delete-versus-edit conflicts need no record: they are derived from tombstones (see `Tree.isRevived`).
 */
import * as Y from 'yjs'
import { MAX_WALK } from './limits.js'
import { AUTHORS, CONFLICTS, GIT_MARKS, RESOLVED, kindOf, revertMarkKey, type NodeId, type Value } from './schema.js'
import type { Tree } from './tree.js'
import { Chain, itemKey, liveValues, recordsByNode, seenBy, type ConflictRecord, type Live, type NodeRecords, type RecordValue } from './heads.js'

export type { ConflictRecord, RecordValue }

function itemValue(i: Y.Item): Value | undefined {
  const c = i.content as unknown as { arr?: unknown[] }
  return Array.isArray(c.arr) ? (c.arr[0] as Value) : undefined
}

const recordKey = (node: NodeId, a: string, b: string) => `${node}|${a < b ? a : b}|${a < b ? b : a}`
const pair = (a: string, va: RecordValue, b: string, vb: RecordValue): ConflictRecord => (a < b ? [va, vb] : [vb, va])

/**
 * Watches remote transactions for races (call `observe` from `afterTransaction`), then, in a local
 * transaction, records them and makes each touched register show its latest live value (`flush`).
 */
export class RaceWatch {
  private races: Array<[string, ConflictRecord]> = []
  private touched = new Set<NodeId>()

  constructor(private readonly tree: Tree) {
    // While an update waits for one it depends on, Yjs has applied its deletions already: a value can be
    // deleted before the write that overwrote it arrives, and garbage-collecting it then would lose it with
    // no record. Such values keep their content until a transaction with their competitor records them.
    const doc = tree.doc
    doc.gcFilter = (item) => !(item.parent === (tree.map as unknown) && item.parentSub?.endsWith('v') && (doc.store.pendingStructs !== null || doc.store.pendingDs !== null))
  }

  /** Every node with a conflict record is looked at by the next `flush` (after records written locally). */
  touchRecorded(): void {
    for (const k of conflictMaps(this.tree.doc).records.keys()) this.touched.add(k.slice(0, k.indexOf('|')))
  }

  get pending(): boolean {
    return this.touched.size > 0
  }

  observe(tr: Y.Transaction): void {
    const { records, resolved } = conflictMaps(this.tree.doc)
    for (const m of [records, resolved]) {
      for (const k of tr.changed.get(m as unknown as Y.AbstractType<Y.YEvent<any>>) ?? []) if (k) this.touched.add(k.slice(0, k.indexOf('|')))
    }
    const keys = tr.changed.get(this.tree.map as unknown as Y.AbstractType<Y.YEvent<any>>)
    if (!keys) return
    const nodes = new Set<NodeId>()
    for (const k of keys) if (k !== null && k.endsWith('v')) nodes.add(k.slice(0, -1))
    if (nodes.size === 0) return
    const groups = recordsByNode(this.tree.doc, nodes)
    for (const node of nodes) {
      this.touched.add(node)
      this.races.push(...detectRaces(this.tree, tr, node, groups.get(node)))
    }
  }

  /**
   * Records the races and writes the copies, through `write` (a local transaction) and only when there is
   * something to write: a peer that merely receives writes nothing.
   */
  flush(write: (f: () => void) => void): void {
    const doc = this.tree.doc
    const { records } = conflictMaps(doc)
    const races = this.races.filter(([k]) => !records.has(k))
    const copies: Array<[NodeId, Live]> = []
    const groups = recordsByNode(doc, this.touched)
    for (const [k, rec] of races) {
      const node = k.slice(0, k.indexOf('|'))
      const g: NodeRecords = groups.get(node) ?? { open: [], dead: new Set<string>(), alias: new Map() }
      groups.set(node, g)
      const [, a, b] = k.split("|") as [string, string, string]
      g.open.push({ key: k, ids: [a, b], rec })
    }
    for (const node of this.touched) {
      if (!this.tree.has(node) || !this.tree.alive(node)) continue
      const live = liveValues(this.tree, node, groups.get(node))
      if (!live || live.shown === live.latest || live.values[live.latest]![0] === this.tree.desc(node)) continue
      // Copied only once the write itself is here (a record can come first): what this peer shows next is
      // then what it has seen, and an edit made on top of it supersedes that write and nothing it has not.
      if (held(doc, live.ids[live.latest]!)) copies.push([node, live])
    }
    this.races = []
    this.touched.clear()
    if (races.length || copies.length) write(() => this.write(races, copies))
  }

  private write(races: Array<[string, ConflictRecord]>, copies: Array<[NodeId, Live]>): void {
    const doc = this.tree.doc
    const { records } = conflictMaps(doc)
    for (const [k, rec] of races) if (!records.has(k)) records.set(k, rec)
    for (const [node, live] of copies) {
      const w = live.values[live.latest]!
      const wid = live.ids[live.latest]!
      // The value shown now is a live competitor too: recorded before its content is overwritten.
      if (live.shown >= 0) {
        const [sid, sv] = [live.ids[live.shown]!, live.values[live.shown]!]
        const k = recordKey(node, sid, wid)
        if (!records.has(k)) records.set(k, pair(sid, sv, wid, w))
      }
      // The copy's item id is the next clock of this client: the map write below creates exactly one item.
      const id = `${doc.clientID}:${Y.getState(doc.store, doc.clientID)}`
      this.tree.map.set(node + 'v', [w[0], w[1]])
      records.set(`${node}|${id}|=${wid}`, [w, w])
    }
  }
}

/**
 * A local edit of a value supersedes its node's records written before it whose writes this peer holds
 * (a record can arrive before a write it names: that write the editor had not seen, and it still competes).
 * `seen`: what the edit was made from, when that is less than this peer holds (a stale save: a record of two
 * peers' race that reached the model after the save's text was read was never looked at, and stays open —
 * superseded, one of its values was listed nowhere: bench/simultaneous.mjs --peers 3, simultaneous3.test.ts).
 */
export function supersede(tree: Tree, tr: Y.Transaction, time: number, seen?: ReadonlyMap<number, number>): void {
  const keys = tr.changed.get(tree.map as unknown as Y.AbstractType<Y.YEvent<any>>)
  const { records, resolved } = conflictMaps(tree.doc)
  if (!keys || records.size === 0) return
  const nodes = new Set<NodeId>()
  for (const k of keys) if (k !== null && k.endsWith('v')) nodes.add(k.slice(0, -1))
  if (nodes.size === 0) return
  const fresh = tr.changed.get(records as unknown as Y.AbstractType<Y.YEvent<any>>)
  // A value written as a copy of the one shown (`copyValue`) supersedes nothing.
  for (const k of fresh ?? []) {
    if (!k?.includes('|=')) continue
    const [node, id] = k.split('|') as [NodeId, string]
    const cur = tree.item(node, 'v')
    if (cur && itemKey(cur) === id) nodes.delete(node)
  }
  if (isUndo(tree.doc, tr)) for (const node of [...nodes]) if (takeBack(tree, node, time)) nodes.delete(node)
  for (const key of records.keys()) {
    const node = key.slice(0, key.indexOf('|'))
    if (!nodes.has(node) || fresh?.has(key) || resolved.has(key) || key.includes('|=')) continue
    if (key.split('|').slice(1).every((id) => held(tree.doc, id, seen))) resolved.set(key, [tree.doc.clientID, time])
  }
}

/** Does this transaction carry this client's `undo` revert mark (schema.ts `RevertMark`)? */
function isUndo(doc: Y.Doc, tr: Y.Transaction): boolean {
  const marks = doc.getMap<unknown>(GIT_MARKS)
  const key = revertMarkKey(doc.clientID)
  const v = tr.changed.get(marks as unknown as Y.AbstractType<Y.YEvent<any>>)?.has(key) ? marks.get(key) : undefined
  return Array.isArray(v) && typeof v[0] === 'string' && v[0].startsWith('undo:')
}

/**
 * An undo of this peer's value that raced others takes back that value alone (black-box tester stop 31,
 * finding 11: written as a fresh edit, c's undo of its winning write of a three-way race superseded the
 * record, and a7 and b7 were listed nowhere). The other live competitors stay: the latest of them is
 * written again as a copy (its writer's), the rest paired with it under `s` ids (no origin chain — the undo's
 * item, written over what this peer held, has them below it — supersedes those), and only the records naming
 * this peer's values are resolved. False when no value of this peer's races, or no other value does: the undo
 * is then an edit like any other.
 */
function takeBack(tree: Tree, node: NodeId, time: number): boolean {
  const doc = tree.doc
  const me = doc.clientID
  const g = recordsByNode(doc, new Set([node])).get(node)
  // Only where the value taken back is one of the racing values: an undo of something else is an edit.
  if (!g || !g.open.some((o) => o.rec[0][2] === me || o.rec[1][2] === me)) return false
  const canon = (id: string) => g.alias.get(id)?.[0] ?? id
  const others = new Map<string, RecordValue>()
  for (const o of g.open) for (const k of [0, 1] as const) {
    const id = canon(o.ids[k])
    if (o.rec[k][2] !== me && !g.dead.has(id) && !others.has(id)) others.set(id, o.rec[k])
  }
  if (others.size === 0) return false
  const byLater = [...others].sort((x, y) => x[1][1] - y[1][1] || x[1][2] - y[1][2] || (x[1][0] < y[1][0] ? -1 : x[1][0] > y[1][0] ? 1 : 0))
  const s = (id: string) => (id.startsWith('s') ? id : 's' + id)
  const [wid, w] = byLater.at(-1)!
  const { records, resolved } = conflictMaps(doc)
  for (const o of g.open) if (o.rec[0][2] === me || o.rec[1][2] === me) resolved.set(o.key, [me, time])
  const id = `${me}:${Y.getState(doc.store, me)}`
  tree.map.set(node + 'v', [w[0], w[1]])
  records.set(`${node}|${id}|=${s(wid)}`, [w, w])
  for (const [oid, v] of byLater.slice(0, -1)) records.set(recordKey(node, s(oid), s(wid)), pair(s(oid), v, s(wid), w))
  return true
}

/**
 * Writes a node's value again as a copy of the write it holds (an alias record, as the later-wins copies of
 * `RaceWatch` are): a todo re-added by identity over the one the model shows — a peer's edit revived it, or
 * a peer added it, while this file did not show it — with a value equal to the one shown wrote nothing the
 * person chose over the others. As a fresh write it had seen every value the register held, and superseded
 * the record of two peers' concurrent writes that no one had looked at (converge seeds 81 and 101: the
 * other value was lost without a record). As a copy it still races with a write that had not seen the value.
 */
export function copyValue(tree: Tree, node: NodeId): void {
  const cur = tree.item(node, 'v')
  const cv = tree.value(node)
  if (!cur || !cv) return
  const doc = tree.doc
  const alias = recordsByNode(doc, new Set([node])).get(node)?.alias.get(itemKey(cur))
  const [wid, w]: [string, RecordValue] = alias ?? [itemKey(cur), [cv[0], cv[1], cur.id.client]]
  const id = `${doc.clientID}:${Y.getState(doc.store, doc.clientID)}`
  tree.map.set(node + 'v', [cv[0], cv[1]])
  conflictMaps(doc).records.set(`${node}|${id}|=${wid}`, [w, w])
}

function held(doc: Y.Doc, id: string, seen?: ReadonlyMap<number, number>): boolean {
  const c = id.indexOf(':')
  if (c < 0) return true
  // A stale save's record names its items with an `s` prefix (stalesave.ts).
  const client = Number(id.slice(id.startsWith('s') ? 1 : 0, c))
  return (seen ? (seen.get(client) ?? 0) : Y.getState(doc.store, client)) > Number(id.slice(c + 1))
}

const NONE: NodeRecords = { open: [], dead: new Set(), alias: new Map() }

/** Races a remote transaction revealed on one node's value register. */
function detectRaces(tree: Tree, tr: Y.Transaction, node: NodeId, g: NodeRecords = NONE): Array<[key: string, rec: ConflictRecord]> {
  const current = tree.item(node, 'v')
  if (!current) return []
  const chain: Y.Item[] = []
  for (let it: Y.Item | null = current; it; it = it.left) chain.push(it)
  const isNew = (i: Y.Item) => i.id.clock >= (tr.beforeState.get(i.id.client) ?? 0)
  if (!chain.some(isNew)) return []
  const ch = new Chain(current)
  const seen = seenBy(current, g, ch)
  const orig = g.alias.get(itemKey(current))
  const origItem = orig && ch.find(orig[0])
  if (origItem) for (const s of seenBy(origItem, g, ch, Number(orig[0].slice(orig[0].indexOf(':') + 1)))) seen.add(s)
  // Content is left only on what this transaction deleted (the value it replaced, new writes that lost) and
  // on values kept while an update was pending (see the constructor): each one is a candidate.
  const candidates = chain.filter((i) => i !== current && itemValue(i) !== undefined)
  const cv = itemValue(current)
  if (!cv) return []
  const canon = (i: Y.Item): [string, number] => {
    const a = g.alias.get(itemKey(i))
    return a ? [a[0], a[1][2]] : [itemKey(i), i.id.client]
  }
  const out: Array<[string, ConflictRecord]> = []
  const [kb, cb] = canon(current)
  for (const c of candidates) {
    const v = itemValue(c)
    if (!v) continue
    // Two collection descriptors (e.g. a flow list's closing spaces vs block style) are formatting.
    if (isStructural(v[0]) && isStructural(cv[0])) continue
    const [ka, ca] = canon(c)
    // Equal values are no conflict, but each write of one still competes with a third value (only copies
    // of one write are the same write).
    if (ka === kb || seen.has(ka) || (v[0] === cv[0] && v[1] === cv[1] && ca === cb)) continue
    out.push([recordKey(node, ka, kb), pair(ka, [v[0], v[1], ca], kb, [cv[0], cv[1], cb])])
  }
  return out
}

function isStructural(desc: string): boolean {
  const k = kindOf(desc)
  return k === 'map' || k === 'seq' || k === 'fseq' || k === 'fmap'
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
  /**
   * A delete record's edit, when its newest write is inside the item: the nodes of its values' writes, each
   * the node a resolution's or a commit's credit for that write is keyed by (a value a resolution wrote in
   * the item was the resolver's edit: black-box tester stop 31, finding 10).
   */
  written?: NodeId[]
}

/** Unresolved conflicts of visible nodes: each node's live competitors, in a deterministic order. */
export function listRaw(tree: Tree): RawConflict[] {
  const out: RawConflict[] = []
  for (const [node, g] of recordsByNode(tree.doc)) {
    if (g.open.length === 0) continue
    if (!tree.has(node) || !tree.alive(node) || !visibleChain(tree, node)) continue
    const live = liveValues(tree, node, g)
    if (!live || live.values.length < 2) continue
    out.push({ node, kind: 'value', records: live.records, values: live.values, winner: Math.max(0, live.shown) })
  }
  const { authors } = conflictMaps(tree.doc)
  const peerOf = (client: number) => authors.get(String(client))?.[0]
  for (const node of revivedNodes(tree)) {
    const t = tree.tombstone(node)!
    const ti = tree.item(node, 'd')!
    const writes = revivingWrites(tree, node, Y.decodeStateVector(t[0]))
    // The deleting peer wrote into it since (an undo, a restore, the item added again, an edit): its own
    // later content supersedes its deletion, and no one's edit is at risk. Listed, `resolve --all --take
    // ours` deleted what it wrote since — a whole file restored by undo emptied again, an item added after
    // the deletion under the same id deleted with it (issue 16 tester).
    const deleter = peerOf(ti.id.client)
    if (deleter !== undefined && writes.some((w) => peerOf(w.id.client) === deleter)) continue
    // The other side is the edit that revived it: its writer and time, not the node's own value's (often
    // the enrollment: `enrolled from the file` named no one).
    // Ties go to the higher client: the writes come in the order this peer's index met them, which differs
    // between peers, and the record must read the same on all (converge free-for-all seed 9 listed two authors).
    const edit = writes.reduce<{ at: number; client: number; node: NodeId } | null>((best, w) => {
      const at = writeTime(w)
      return !best || at > best.at || (at === best.at && w.id.client > best.client) ? { at, client: w.id.client, node: (w.parentSub ?? '').slice(0, -1) } : best
    }, null)
    const values: RecordValue[] = [
      ['\u0000deleted', t[1], ti.id.client],
      [tree.desc(node) ?? '', edit?.at ?? tree.value(node)?.[1] ?? 0, edit?.client ?? tree.item(node, 'v')?.id.client ?? 0],
    ]
    out.push({ node, kind: 'delete', records: [], values, winner: 1, ...(edit && edit.node !== node ? { written: [node, edit.node] } : {}) })
  }
  return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
}

/**
 * The writes in a deleted node's subtree its deletion had not seen (`Tree.isRevived`'s test, item by item):
 * its value, and the value, placement and deletion of every node ever placed below it.
 */
function revivingWrites(tree: Tree, node: NodeId, seen: Map<number, number>): Y.Item[] {
  const out: Y.Item[] = []
  const add = (i: Y.Item | undefined) => void (i && !i.deleted && i.id.clock >= (seen.get(i.id.client) ?? 0) && out.push(i))
  add(tree.item(node, 'v'))
  const visited = new Set<NodeId>([node])
  for (const stack = tree.rawChildren(node); stack.length; ) {
    const c = stack.pop()!
    if (visited.has(c)) continue
    visited.add(c)
    for (const attr of ['v', 'o', 'd']) add(tree.item(c, attr))
    stack.push(...tree.rawChildren(c))
  }
  return out
}

/** When a register write was made (a value's or a deletion's time; 0 for a placement, which has none). */
function writeTime(i: Y.Item): number {
  const v = itemValue(i) as unknown
  return Array.isArray(v) && typeof v[1] === 'number' ? v[1] : 0
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
