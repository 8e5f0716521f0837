/**
 * The tree's registers read back as the annotated IR that `render.ts` turns into text, with the objects
 * reused until something in their subtree changes: rendering after one edit rebuilds only the path to it
 * (and `render.ts` reuses the text of untouched entries). `Tree` keeps the index and the visibility rules
 * and tells this cache what to forget; this module only builds. Counter nodes render their written value
 * plus every peer's increments (`counted`).
 */
import type { Child, DocIR, FlowEntry, FlowItem, Line, MapEntry, Node, SeqItem } from './ir.js'
import { clampIndent, DamagedStateError, MAX_WALK } from './limits.js'
import { markImmutable } from './render.js'
import { ROOT, kindOf, parseBlockDesc, type NodeId, type Placement } from './schema.js'

/** What building needs of the tree (`tree.ts` `Tree`): declared here so the two do not import each other. */
export interface TreeReader {
  get<T>(id: NodeId, attr: string): T | undefined
  desc(id: NodeId): string | undefined
  /** The descriptor the node renders with (`emptied.ts`: an emptied value over a peer's edit inside it). */
  shownDesc(id: NodeId): string | undefined
  placement(id: NodeId): Placement | undefined
  /** Children that render, in order. */
  visibleChildren(id: NodeId): NodeId[]
  contributions(id: NodeId): Map<number, number> | undefined
}

export class TreeIR {
  private readonly nodes = new Map<NodeId, Node>()
  /** Keyed by the child's id; the object's shape depends on the parent's kind (entry vs flow item). */
  private readonly children = new Map<NodeId, { as: string; c: Child }>()
  private building = 0

  constructor(private readonly tree: TreeReader) {}

  /** Nothing built yet (a document loading or arriving whole). */
  get empty(): boolean {
    return this.nodes.size === 0 && this.children.size === 0
  }

  /** Drops what was built for `id` (its registers changed, or something below it did). */
  forget(id: NodeId): void {
    this.nodes.delete(id)
    this.children.delete(id)
  }

  toIR(): DocIR {
    const v = this.tree.shownDesc(ROOT)
    return {
      head: this.tree.get<string>(ROOT, 'h') ?? '',
      root: v === undefined || kindOf(v) === 'none' ? null : this.node(ROOT),
      trail: this.tree.get<string>(ROOT, 't') ?? '',
    }
  }

  node(id: NodeId): Node {
    let n = this.nodes.get(id)
    if (!n) {
      // Recursion as deep as the tree: a state deeper than any the guard admits is refused, not a stack overflow.
      if (++this.building > MAX_WALK) {
        this.building = 0
        throw new DamagedStateError(`its synced state nests deeper than ${MAX_WALK} levels`)
      }
      try {
        n = this.buildNode(id)
      } finally {
        this.building = Math.max(0, this.building - 1)
      }
      this.nodes.set(id, n)
    }
    return n
  }

  private child<T extends Child>(id: NodeId, as: string, build: (id: NodeId) => T): T {
    const hit = this.children.get(id)
    if (hit && hit.as === as) return hit.c as T
    const c = build(id)
    markImmutable(c)
    this.children.set(id, { as, c })
    return c
  }

  private buildNode(id: NodeId): Node {
    const desc = this.tree.shownDesc(id) ?? '='
    switch (kindOf(desc)) {
      case 'scalar':
        return { t: 'scalar', raw: counted(desc.slice(1), this.tree.contributions(id)) }
      case 'opaque':
        return { t: 'opaque', raw: desc.slice(1) }
      case 'map':
        return { t: 'map', entries: this.tree.visibleChildren(id).map((c) => this.child(c, 'entry', (x) => this.mapEntry(x))), indent: clampIndent(Number(desc.slice(1)) || 0) }
      case 'seq':
        return { t: 'seq', items: this.tree.visibleChildren(id).map((c) => this.child(c, 'item', (x) => this.seqItem(x))), indent: clampIndent(Number(desc.slice(1)) || 0) }
      case 'fseq':
        return { t: 'fseq', items: this.tree.visibleChildren(id).map((c) => this.child(c, 'flowItem', (x) => this.flowItem(x))), close: desc.slice(1) }
      case 'fmap':
        return { t: 'fmap', entries: this.tree.visibleChildren(id).map((c) => this.child(c, 'flowEntry', (x) => this.flowEntry(x))), close: desc.slice(1) }
      case 'block': {
        const b = parseBlockDesc(desc)
        const lines: Line[] = this.tree.visibleChildren(id).map((c) => ({ id: c, text: (this.tree.desc(c) ?? '=').slice(1) }))
        return { t: 'block', header: b.header, indent: clampIndent(b.indent), lines }
      }
      default:
        return { t: 'scalar', raw: '' }
    }
  }

  private mapEntry(id: NodeId): MapEntry {
    const key = this.tree.placement(id)![2]!
    return {
      id,
      key,
      keyRaw: this.tree.get<string>(id, 'k') ?? key,
      head: this.tree.get<string>(id, 'h') ?? '',
      sep: this.tree.get<string>(id, 's') ?? ': ',
      value: this.node(id),
      trail: this.trail(id),
    }
  }

  private seqItem(id: NodeId): SeqItem {
    return {
      id,
      head: this.tree.get<string>(id, 'h') ?? '',
      sep: this.tree.get<string>(id, 's') ?? '- ',
      value: this.node(id),
      trail: this.trail(id),
    }
  }

  /**
   * An entry's or item's trail. An emptied value shown as the block collection a peer's edit keeps alive
   * (`emptied.ts`) still has the trail of the empty value (`todos:` + newline); the collection's entries end
   * their own lines, so that newline would be a blank line after them.
   */
  private trail(id: NodeId): string {
    const t = this.tree.get<string>(id, 't') ?? '\n'
    if (t !== '\n') return t
    const shown = this.tree.shownDesc(id)
    return shown !== this.tree.desc(id) && (shown?.[0] === 'M' || shown?.[0] === 'S') ? '' : t
  }

  private flowItem(id: NodeId): FlowItem {
    return { id, pre: this.tree.get<string>(id, 'h') ?? '', value: this.node(id), post: this.tree.get<string>(id, 't') ?? '' }
  }

  private flowEntry(id: NodeId): FlowEntry {
    const key = this.tree.placement(id)![2]!
    return {
      id,
      key,
      keyRaw: this.tree.get<string>(id, 'k') ?? key,
      pre: this.tree.get<string>(id, 'h') ?? '',
      sep: this.tree.get<string>(id, 's') ?? ': ',
      value: this.node(id),
      post: this.tree.get<string>(id, 't') ?? '',
    }
  }
}

const INTEGER = /^(["']?)([-+]?\d{1,15})\1$/

/** A counter's value: its written value plus every peer's net increments; non-integers stay as written. */
export function counted(raw: string, contributions: Map<number, number> | undefined): string {
  if (!contributions || contributions.size === 0) return raw
  const m = INTEGER.exec(raw.trim())
  if (!m) return raw
  let total = Number(m[2])
  for (const d of contributions.values()) total += d
  return raw.replace(m[2]!, String(total))
}

export function integerOf(raw: string): number | null {
  const m = INTEGER.exec(raw.trim())
  return m ? Number(m[2]) : null
}
