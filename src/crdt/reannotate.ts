/**
 * Node ids for what a text shows that the model no longer renders (a deleted item, a removed field).
 *
 * `annotate` gives a parsed text the ids of the IR it is matched against: the model's rendering. A text
 * the file held earlier (meta's history, recalled after a restart) may show an item that peers deleted
 * since; matched against the rendering, that item has no id. A save made from that text (an old buffer
 * written back while no daemon ran) is diffed against it as a stale save: the id-less item read as new in
 * both, and the new item took the id every peer derives for its identity — the deleted node's — and revived
 * it (black-box tester round 2: a peer's deletion undone). Keys and identity-bearing items have ids every
 * peer derives (`Writer.newChildId`): where the tree holds a node under that id, alive or deleted, it is
 * the one the text showed.
 */
import { childrenOf, type DocIR, type Node } from './ir.js'
import { identityOfIR, ITEM, type Rules } from './rules.js'
import { childId, identitySegment, keySegment, ROOT, type NodeId } from './schema.js'

export function fillDerivedIds(ir: DocIR, has: (id: NodeId) => boolean, rules: Rules): DocIR {
  if (ir.root) fill(ir.root, ROOT, has, rules, [])
  return ir
}

function fill(n: Node, id: NodeId, has: (id: NodeId) => boolean, rules: Rules, path: readonly string[]): void {
  const kids = childrenOf(n)
  if (!kids) return
  const keyed = n.t === 'map' || n.t === 'fmap'
  for (const c of kids) {
    const key = keyed ? (c as { key: string }).key : undefined
    if (c.id === undefined) {
      const ident = key === undefined ? identityOfIR(c.value, rules, path) : undefined
      const derived = key !== undefined ? childId(id, keySegment(key)) : ident !== undefined ? childId(id, identitySegment(ident)) : undefined
      if (derived !== undefined && has(derived)) c.id = derived
    }
    if (c.id !== undefined) fill(c.value, c.id, has, rules, [...path, key ?? ITEM])
  }
}
