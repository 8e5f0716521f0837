/**
 * What a value emptied on one peer shows while another peer's edit lives inside it (issue 13/16, black-box
 * tester finding 3). One peer truncates the file (`: > todos.yaml`) or empties a collection (`todos:`,
 * `todos: {}` over a list) while another, apart, edits a field inside. The emptying tombstones the
 * collection's children; the edit revives the child it touched (`Tree.isRevived`), and a child added inside
 * meanwhile was never tombstoned. Both are alive, and the conflict records name them, but a value of no
 * kind (an empty document, null) or of the other kind shows no children: nothing rendered them, and an
 * undo of the emptying later wrote the old text over the edit.
 *
 * So an *empty* value over alive children of another kind shows as the collection those children make up:
 * what the emptying removed stays removed, and what the other peer changed meanwhile is shown, on every
 * peer alike (a function of the registers only). A non-empty scalar (`todos: none`) is a value the user
 * typed and still wins; the edit stays in the delete conflict, for `resolve`. Nothing is written: the first
 * save that changes the value writes its own, and resolving the delete conflict for the deletion empties
 * the value again.
 */
import { slotsOf, type DocIR } from './ir.js'
import { keyedKind, kindOf, ROOT, type NodeId, type Placement } from './schema.js'

/** What this needs of the tree (`tree.ts`), declared here so the two do not import each other. */
export interface ChildrenReader {
  desc(id: NodeId): string | undefined
  placement(id: NodeId): Placement | undefined
  alive(id: NodeId): boolean
  /** Children not known to be deleted, of either class. */
  awakeChildren(id: NodeId): Iterable<NodeId>
}

/** The null scalars of YAML (`todos:`, `todos: ~`, `todos: null`): an emptied value, not one typed. */
const NULL = /^\s*(~|null|Null|NULL)?\s*$/

/** A value of no kind, or a null scalar: one that shows the alive children of either class under it. */
export function isEmptyDesc(d: string | undefined): boolean {
  const kind = kindOf(d)
  return kind === 'none' || (kind === 'scalar' && NULL.test(d!.slice(1)))
}

/**
 * The descriptor node `id` renders with: its own, or — when its value is empty and children of the other
 * class are alive under it — a collection of those children (block, at the usual indentation; flow when
 * the emptied value was flow).
 */
export function shownDesc(tree: ChildrenReader, id: NodeId): string | undefined {
  const d = tree.desc(id)
  if (d === undefined && id !== ROOT) return d
  const kind = kindOf(d)
  const empty = isEmptyDesc(d)
  // A block scalar's lines are list children too, but a block scalar is text, not an emptied collection.
  const collection = kind === 'map' || kind === 'seq' || kind === 'fseq' || kind === 'fmap'
  if (!empty && !collection) return d
  const own = collection ? keyedKind(kind) : null
  let keyed = false
  let list = false
  for (const c of tree.awakeChildren(id)) {
    const p = tree.placement(c)
    if (!p || p[0] !== id) continue
    const isKeyed = p.length > 2
    if (own !== null && isKeyed === own) {
      // One alive child of the value's own class: the value is not empty, it shows what it holds.
      if (tree.alive(c)) return d
      continue
    }
    if ((isKeyed ? keyed : list) || !tree.alive(c)) continue
    if (isKeyed) keyed = true
    else list = true
  }
  if (!keyed && !list) return d
  // Both classes alive (rare: a peer's mapping and another's list): the entries, as a mapping shows them.
  const asKeyed = keyed
  if (kind === 'fseq' || kind === 'fmap') return (asKeyed ? '{' : '[') + d!.slice(1)
  if (kind === 'map' || kind === 'seq') return (asKeyed ? 'M' : 'S') + d!.slice(1)
  return (asKeyed ? 'M' : 'S') + (id === ROOT ? 0 : 2)
}

/**
 * After a deliberate whole-file write (`undo`, `restore`; `FileModel.ingest`'s `deliberate`): every node its
 * text shows that a delete conflict kept is kept on purpose now, its deletion cleared. The undo of a
 * truncation that a peer's edit had partly revived writes nothing inside the entry it shows as it was, so
 * the conflict stayed listed, and taking the deletion then (`resolve --all --take ours`) emptied the file
 * the undo had just brought back (e2e resolve-stale).
 */
export function confirmShown(tree: ChildrenReader & { get(id: NodeId, attr: string): unknown }, w: { revive(id: NodeId): void }, ir: DocIR): void {
  for (const s of slotsOf(ir)) if (s.id && tree.get(s.id, 'd') && tree.alive(s.id)) w.revive(s.id)
}
