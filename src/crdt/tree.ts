/**
 * Reads the flat registers of a Y.Doc back as a tree: a parent → children index kept up to date from
 * Y.Map events, visibility (tombstones, and the "deleted on one side, edited on the other" rule), paths
 * for rules and messages, and — through its cache in `tree-ir.ts` — the annotated IR that `render.ts`
 * turns into text. Every register change arrives here first: this module decides what each one
 * invalidates (the IR of the node and of every node above it, revival verdicts, sleeping children).
 */
import * as Y from 'yjs'
import type { DocIR, Node } from './ir.js'
import { ITEM, defaultRules, type Rules } from './rules.js'
import { scalarText } from './scalar.js'
import { MAX_WALK } from './limits.js'
import { TreeIR } from './tree-ir.js'
import { shownDesc } from './emptied.js'
import {
  ROOT,
  keyedKind,
  kindOf,
  nodesOf,
  type Kind,
  type NodeId,
  type Placement,
  type Tombstone,
  type Value,
  COUNT,
} from './schema.js'

export { scalarText } from './scalar.js'
export { confirmShown } from './emptied.js'
export { counted, integerOf } from './tree-ir.js'

export class Tree {
  readonly map: Y.Map<unknown>
  private children = new Map<NodeId, Set<NodeId>>()
  private counters = new Map<NodeId, Map<number, number>>()
  private revived = new Map<NodeId, boolean>()
  /**
   * Per parent, the children not known to be deleted. A rendering of a list looked again at every todo
   * ever deleted from it; a child found deleted now sleeps (child → parent) until a change in its subtree
   * drops its verdict and wakes it.
   */
  private awake = new Map<NodeId, Set<NodeId>>()
  private sleeping = new Map<NodeId, NodeId>()
  /** The IR built from the registers, reused until something in its subtree changes (`tree-ir.ts`). */
  private readonly ir = new TreeIR(this)
  /** Nodes whose own registers changed since the last `takeDirty()`. */
  private dirty = new Set<NodeId>()

  constructor(
    readonly doc: Y.Doc,
    readonly rules: Rules = defaultRules,
  ) {
    this.map = nodesOf(doc)
    for (const [key, value] of this.map) {
      if (key.endsWith('o')) this.link(key.slice(0, -1), value as Placement)
      else if (key.includes(COUNT)) this.count(key)
    }
    this.map.observe((e) => {
      // A document arriving whole into an empty one (a first sync, a load): every key is new, so there
      // are no old values to look up — and `e.changes` would build an object for each of its registers.
      if (this.children.size === 0 && this.counters.size === 0 && this.ir.empty) {
        this.clearVerdicts()
        for (const key of e.keysChanged) {
          // null: a list insertion into the map (never written by ctxsync; a stored state from a hostile peer).
          if (typeof key !== 'string') continue
          const counter = key.indexOf(COUNT)
          if (counter >= 0) this.count(key)
          this.dirty.add(counter >= 0 ? key.slice(0, counter) : key.slice(0, -1))
          if (counter < 0 && key.endsWith('o')) {
            const now = this.map.get(key) as Placement | undefined
            if (now) this.link(key.slice(0, -1), now)
          }
        }
        return
      }
      for (const key of e.keysChanged) {
        if (typeof key !== 'string') continue
        const counter = key.indexOf(COUNT)
        const id = counter >= 0 ? key.slice(0, counter) : key.slice(0, -1)
        if (counter >= 0) this.count(key)
        if (!isPlainValueChange(key, e.changes.keys.get(key)?.oldValue, this.map.get(key))) this.dirty.add(id)
        this.invalidate(id)
        if (counter < 0 && key.endsWith('d') && this.map.get(key)) this.forgetSubtree(id)
        if (!key.endsWith('o') || counter >= 0) continue
        const old = e.changes.keys.get(key)?.oldValue as Placement | undefined
        if (old) {
          this.unlink(id, old[0])
          this.invalidate(old[0])
        }
        const now = this.map.get(key) as Placement | undefined
        if (now) this.link(id, now)
        this.invalidate(id)
      }
    })
  }

  /**
   * Drops the cached IR of a node and of every node above it (their objects contain it), and whether
   * they were revived: that depends only on writes in their subtree. Clearing all of it on every change
   * made each rendering decide again for every todo ever deleted from the list being rendered.
   */
  private invalidate(id: NodeId): void {
    // Nothing built yet (a document loading or arriving whole): no walk up for each of its registers.
    if (this.ir.empty) return this.clearVerdicts()
    for (let cur: NodeId | undefined = id, n = 0; cur !== undefined && n < MAX_WALK; n++) {
      this.ir.forget(cur)
      this.revived.delete(cur)
      this.wake(cur)
      cur = cur === ROOT ? undefined : this.placement(cur)?.[0]
    }
  }

  /**
   * Drops the cached IR below a node just deleted: no rendering visits it any more, and a long-running
   * daemon kept each deleted todo's fields and their rendered text for good (~2 KB each). Built again if
   * the node comes back.
   */
  private forgetSubtree(id: NodeId): void {
    for (const d of this.descendants(id)) this.ir.forget(d)
  }

  /** Every node ever placed below `id`, visible or not (each once, should placements form a cycle). */
  private *descendants(id: NodeId): Generator<NodeId> {
    const stack = [...(this.children.get(id) ?? [])]
    const seen = new Set<NodeId>([id])
    for (let cur = stack.pop(); cur !== undefined; cur = stack.pop()) {
      if (seen.has(cur)) continue
      seen.add(cur)
      yield cur
      for (const c of this.children.get(cur) ?? []) stack.push(c)
    }
  }

  /** Nodes written since the last call (to validate only what a render produced afresh). */
  takeDirty(): Set<NodeId> {
    const d = this.dirty
    this.dirty = new Set()
    return d
  }

  private count(key: string): void {
    const at = key.indexOf(COUNT)
    const id = key.slice(0, at)
    let m = this.counters.get(id)
    if (!m) this.counters.set(id, (m = new Map()))
    m.set(Number(key.slice(at + 1)), (this.map.get(key) as number | undefined) ?? 0)
  }

  /** Net increments per Yjs client of a counter node (see `rules.ts`: counter). */
  contributions(id: NodeId): Map<number, number> | undefined {
    return this.counters.get(id)
  }

  private link(id: NodeId, p: Placement): void {
    let set = this.children.get(p[0])
    if (!set) this.children.set(p[0], (set = new Set()))
    set.add(id)
    this.awakeUnder(p[0]).add(id)
  }

  private unlink(id: NodeId, parent: NodeId): void {
    this.children.get(parent)?.delete(id)
    this.awake.get(parent)?.delete(id)
    this.sleeping.delete(id)
  }

  private awakeUnder(parent: NodeId): Set<NodeId> {
    let set = this.awake.get(parent)
    if (!set) this.awake.set(parent, (set = new Set()))
    return set
  }

  private wake(id: NodeId): void {
    const parent = this.sleeping.get(id)
    if (parent === undefined) return
    this.sleeping.delete(id)
    this.awakeUnder(parent).add(id)
  }

  private clearVerdicts(): void {
    this.revived.clear()
    for (const [id, parent] of this.sleeping) this.awakeUnder(parent).add(id)
    this.sleeping.clear()
  }

  get<T>(id: NodeId, attr: string): T | undefined {
    return this.map.get(id + attr) as T | undefined
  }

  has(id: NodeId): boolean {
    return id === ROOT ? this.map.has(ROOT + 'v') : this.map.has(id + 'o')
  }

  placement(id: NodeId): Placement | undefined {
    return this.get<Placement>(id, 'o')
  }

  value(id: NodeId): Value | undefined {
    return this.get<Value>(id, 'v')
  }

  desc(id: NodeId): string | undefined {
    return this.value(id)?.[0]
  }

  kind(id: NodeId): Kind {
    return kindOf(this.desc(id))
  }

  /** The descriptor the node renders with: its own, or the collection its alive children make of an emptied value (`emptied.ts`). */
  shownDesc(id: NodeId): string | undefined {
    return shownDesc(this, id)
  }

  /** Children not known to be deleted (of either class): what `emptied.ts` looks at. */
  awakeChildren(id: NodeId): Iterable<NodeId> {
    return this.awake.get(id) ?? []
  }

  tombstone(id: NodeId): Tombstone | null {
    return (this.get<Tombstone | null>(id, 'd') ?? null) as Tombstone | null
  }

  /** All children ever placed under `id`, visible or not. */
  rawChildren(id: NodeId): NodeId[] {
    return [...(this.children.get(id) ?? [])]
  }

  /** Children that render: alive and of the kind the parent's value holds, in order. */
  visibleChildren(id: NodeId): NodeId[] {
    const keyed = keyedKind(kindOf(this.shownDesc(id)))
    if (keyed === null) return []
    const out: Array<[string, NodeId]> = []
    const awake = this.awake.get(id)
    for (const c of awake ?? []) {
      const p = this.placement(c)
      if (!p || (p.length > 2) !== keyed) continue
      if (!this.alive(c)) {
        awake!.delete(c)
        this.sleeping.set(c, id)
        continue
      }
      out.push([p[1], c])
    }
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    return out.map((x) => x[1])
  }

  /** True when the node renders: never deleted, re-created, or edited concurrently with its deletion. */
  alive(id: NodeId): boolean {
    const t = this.tombstone(id)
    if (!t) return true
    return this.isRevived(id, t)
  }

  /** Deleted, but some peer changed the subtree without having seen the deletion: the edit is kept. */
  isRevived(id: NodeId, t: Tombstone = this.tombstone(id)!): boolean {
    let r = this.revived.get(id)
    if (r === undefined) {
      const sv = Y.decodeStateVector(t[0])
      r = this.subtreeHasWriteBeyond(id, sv)
      this.revived.set(id, r)
    }
    return r
  }

  /**
   * Only content counts as an edit that outlives a deletion: a value written, or a child added. A
   * comment or blank line changed next to a deleted todo (often just the line above a new item) does not
   * bring the todo back.
   */
  private subtreeHasWriteBeyond(id: NodeId, sv: Map<number, number>): boolean {
    for (const item of this.subtreeWrites(id)) if (item.id.clock >= (sv.get(item.id.client) ?? 0)) return true
    return false
  }

  /**
   * The Yjs clients whose writes the subtree shows now: all a tombstone needs to remember, since
   * `isRevived` compares only those writes, and any other write it could meet later is one the deleting
   * peer had not seen (a register's current item is never replaced by one older than it).
   */
  subtreeWriters(id: NodeId): Set<number> {
    const out = new Set<number>()
    for (const item of this.subtreeWrites(id)) out.add(item.id.client)
    return out
  }

  /**
   * The node's value, and the value, placement and deletion of every node below it, where they are set. A
   * deletion inside is content too: a key renamed on one peer (its node deleted, a new one added) while the
   * other deleted a field or an item under it would otherwise lose that deletion without a trace.
   */
  private *subtreeWrites(id: NodeId): Generator<Y.Item> {
    const live = (item: Y.Item | undefined) => (item && !item.deleted ? [item] : [])
    yield* live(this.item(id, 'v'))
    for (const d of this.descendants(id)) {
      yield* live(this.item(d, 'v'))
      yield* live(this.item(d, 'o'))
      yield* live(this.item(d, 'd'))
    }
  }

  /** The Yjs item currently holding a register (for authorship and causality). */
  item(id: NodeId, attr: string): Y.Item | undefined {
    return (this.map as unknown as { _map: Map<string, Y.Item> })._map.get(id + attr)
  }

  /** Key path from the root, using identity values for list items (`["todos","todo-7","status"]`). */
  path(id: NodeId): Array<string | number> {
    const out: Array<string | number> = []
    const rp = this.rulePath(id)
    let cur = id
    let depth = rp.length
    while (cur !== ROOT && depth > 0) {
      const p = this.placement(cur)
      if (!p) break
      depth--
      if (p.length > 2) out.push(p[2]!)
      else out.push(this.identityOf(cur, this.rules.at(rp.slice(0, depth)).identity) ?? this.visibleChildren(p[0]).indexOf(cur))
      cur = p[0]
    }
    return out.reverse()
  }

  /**
   * The last segment of `path(id)` alone — its key, identity, or index among the visible items (`index`
   * when the caller knows it): looking a path up child by child with `path` cost a walk to the root and a
   * sort of each list for every child (blame of a 33 KB file ran for minutes).
   */
  segment(id: NodeId, index?: number): string | number | undefined {
    const p = this.placement(id)
    if (!p) return undefined
    if (p.length > 2) return p[2]!
    const rp = this.rulePath(id)
    return this.identityOf(id, this.rules.at(rp.slice(0, rp.length - 1)).identity) ?? index ?? this.visibleChildren(p[0]).indexOf(id)
  }

  /** The path rules see: keys, and ITEM for list items. */
  rulePath(id: NodeId): string[] {
    const out: string[] = []
    // Bounded: placements in a cycle (a state from before `guard.ts`) must not walk forever.
    for (let cur = id; cur !== ROOT && out.length < MAX_WALK; ) {
      const p = this.placement(cur)
      if (!p) break
      out.push(p.length > 2 ? p[2]! : ITEM)
      cur = p[0]
    }
    return out.reverse()
  }

  /** The identity value (under one of `keys`) of a list item that is a mapping, if any. */
  identityOf(id: NodeId, keys: readonly string[]): string | undefined {
    const k = kindOf(this.shownDesc(id))
    if (k !== 'map' && k !== 'fmap') return undefined
    const children = this.visibleChildren(id)
    for (const key of keys) {
      for (const c of children) {
        const p = this.placement(c)!
        if (p[2] === key && this.kind(c) === 'scalar') return scalarText(this.desc(c)!.slice(1))
      }
    }
    return undefined
  }

  /** The annotated IR of the whole document (see `tree-ir.ts`). */
  toIR(): DocIR {
    return this.ir.toIR()
  }

  /** The IR of one node, built from its registers or reused. */
  node(id: NodeId): Node {
    return this.ir.node(id)
  }
}

/**
 * A single-line scalar replaced by another in the same place cannot make the file invalid: the writer
 * parsed that token in this very spot. Anything else — structure, separators, comments, multi-line text —
 * is checked after rendering (`FileModel.render`).
 */
function isPlainValueChange(key: string, before: unknown, after: unknown): boolean {
  if (!key.endsWith('v')) return false
  const single = (v: unknown) => Array.isArray(v) && typeof v[0] === 'string' && v[0][0] === '=' && !v[0].includes('\n')
  return single(before) && single(after)
}
