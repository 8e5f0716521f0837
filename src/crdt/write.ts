/**
 * Register writes with the conventions of `schema.ts`: defaults are not stored, unchanged values are not
 * rewritten (a write that changes nothing would still be an operation, and a needless conflict), and new
 * subtrees are created node by node with order keys.
 */
import * as Y from 'yjs'
import type { Child, Node } from './ir.js'
import { blockDesc, childId, enrollSegment, identitySegment, keySegment, setSegment, type NodeId, type Placement } from './schema.js'
import type { Tree } from './tree.js'
import { identityOfIR, type Rules } from './rules.js'
import { copyValue } from './conflicts.js'

export type ChildKind = 'entry' | 'item' | 'flowItem' | 'flowEntry' | 'line'

/** The value descriptor of an IR node (see `Desc` in schema.ts). */
export function descOf(node: Node | null): string {
  if (!node) return '~'
  switch (node.t) {
    case 'scalar':
      return '=' + node.raw
    case 'opaque':
      return '!' + node.raw
    case 'map':
      return 'M' + node.indent
    case 'seq':
      return 'S' + node.indent
    case 'fseq':
      return '[' + node.close
    case 'fmap':
      return '{' + node.close
    case 'block':
      return blockDesc(node.indent, node.header)
  }
}

export function childKindOf(parent: Node): ChildKind {
  switch (parent.t) {
    case 'map':
      return 'entry'
    case 'seq':
      return 'item'
    case 'fseq':
      return 'flowItem'
    case 'fmap':
      return 'flowEntry'
    default:
      return 'line'
  }
}

/** Syntax registers of a child and their defaults, in a fixed order (enrollment must be deterministic). */
export function syntaxOf(c: Child | { text: string }, kind: ChildKind): Array<[attr: string, value: string, dflt: string]> {
  switch (kind) {
    case 'entry': {
      const e = c as Extract<Child, { head: string; keyRaw: string }>
      return [['k', e.keyRaw, e.key], ['h', e.head, ''], ['s', e.sep, ': '], ['t', e.trail, '\n']]
    }
    case 'item': {
      const e = c as Extract<Child, { head: string; trail: string }>
      return [['h', e.head, ''], ['s', e.sep, '- '], ['t', e.trail, '\n']]
    }
    case 'flowItem': {
      const e = c as Extract<Child, { pre: string }>
      return [['h', e.pre, ''], ['t', e.post, '']]
    }
    case 'flowEntry': {
      const e = c as Extract<Child, { pre: string; keyRaw: string }>
      return [['k', e.keyRaw, e.key], ['h', e.pre, ''], ['s', e.sep, ': '], ['t', e.post, '']]
    }
    case 'line':
      return []
  }
}

export interface WriterOptions {
  /** Seconds stamped on value writes; 0 for enrollment (it must be the same on every peer). */
  time: number
  /** Unique segments for items without identity; enrollment uses positions instead. */
  unique: (() => string) | null
  rules: Rules
  /**
   * What the writer had seen, when less than the document holds (a stale save: the state when the file held
   * the text it was made from, see `recent.ts`). A tombstone then remembers no more than that, so an edit a
   * peer made since outlives the deletion (`Tree.isRevived`) instead of vanishing with it.
   */
  seen?: Map<number, number>
}

export class Writer {
  constructor(
    readonly tree: Tree,
    readonly opts: WriterOptions,
  ) {}

  get map(): Y.Map<unknown> {
    return this.tree.map
  }

  /** Writes a string register unless it already holds `value`; removes it when `value` is the default. */
  setStr(id: NodeId, attr: string, value: string, dflt: string): void {
    const key = id + attr
    const cur = this.map.get(key) as string | undefined
    if (value === dflt) {
      if (cur !== undefined) this.map.delete(key)
    } else if (cur !== value) this.map.set(key, value)
  }

  /** `force`: write even an unchanged value (a set element re-added must outlive a concurrent removal). */
  setDesc(id: NodeId, desc: string, force = false): void {
    const cur = this.tree.desc(id)
    if (force || cur !== desc) this.map.set(id + 'v', [desc, this.opts.time])
  }

  /** Writes the node's value again as a copy of the write it holds, superseding nothing (`copyValue`). */
  copyDesc(id: NodeId): void {
    copyValue(this.tree, id)
  }

  place(id: NodeId, p: Placement): void {
    const cur = this.tree.placement(id)
    if (!cur || cur[0] !== p[0] || cur[1] !== p[1] || cur[2] !== p[2]) this.map.set(id + 'o', p)
  }

  /**
   * Marks a node deleted, remembering what this peer had seen (so concurrent edits can be detected): the
   * state vector cut down to the clients whose writes the subtree shows (`Tree.subtreeWriters`). The whole
   * vector would be equivalent but grows with every process that ever wrote to the file, in every
   * tombstone; readers of either form decide alike.
   */
  tombstone(id: NodeId, again = false, whole = false): void {
    // Deleted already and not revived: nothing to do (a stale save's tombstone would remember less). A
    // revived item (an edit the deletion had not seen) that the file showed and the save removes is deleted
    // again, having seen that edit: the person's deletion is the later edit (edit generator: an item a stale
    // save kept came back after every save that deleted it). An edit that this deletion has not seen revives
    // it again, with its delete conflict. `again`: a revived item no file showed (see
    // `Differ.tombstoneHidden`); `whole`: it remembers all the document holds, also in a stale save (such a
    // child is of a kind the value no longer has).
    const old = this.tree.tombstone(id)
    if (old && !again && !this.tree.isRevived(id, old)) return
    const store = this.tree.doc.store
    const had = whole ? undefined : this.opts.seen
    const state = (client: number) => (had ? Math.min(Y.getState(store, client), had.get(client) ?? 0) : Y.getState(store, client))
    const seen = new Map([...this.tree.subtreeWriters(id)].map((client) => [client, state(client)]))
    // What the first deletion had seen stays deleted, even when this one (a stale save) saw less of it.
    if (old) for (const [client, clock] of Y.decodeStateVector(old[0])) if (clock > (seen.get(client) ?? 0)) seen.set(client, clock)
    this.map.set(id + 'd', [Y.encodeStateVector(seen), this.opts.time])
  }

  revive(id: NodeId): void {
    if (this.tree.get(id, 'd')) this.map.set(id + 'd', null)
  }

  /**
   * Id for a new child of the list or map at `listPath`; identity-bearing children (a key, an `id`, a set
   * element) get the id every peer would derive, so concurrent additions of the same one merge. `taken`:
   * the ids of the items the writer's file shows.
   */
  newChildId(
    parent: NodeId,
    c: Child,
    kind: ChildKind,
    index: number,
    listPath: readonly string[],
    setKey: string | undefined,
    taken: ReadonlySet<NodeId>,
  ): NodeId {
    if (kind === 'entry' || kind === 'flowEntry') return childId(parent, keySegment((c as { key: string }).key))
    if (kind === 'item' || kind === 'flowItem') {
      if (setKey !== undefined) return childId(parent, setSegment(setKey))
      const ident = identityOfIR(c.value, this.opts.rules, listPath)
      if (ident !== undefined) {
        const id = childId(parent, identitySegment(ident))
        // An item with this identity that the writer's file does not show (a peer added it, or an edit
        // revived it, and the file has not been rewritten yet) is the same item: the two merge field by
        // field, as concurrent additions do. One the file does show is another item (a renamed id, a
        // duplicated item): stay distinct.
        if (!taken.has(id)) return id
      }
    }
    const seg = this.opts.unique ? 'u:' + this.opts.unique() : enrollSegment(index)
    return childId(parent, seg)
  }
}
