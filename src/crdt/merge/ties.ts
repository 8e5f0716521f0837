/**
 * Whether a merge's order rests on a tie that only the whole file's merge decides the same way.
 *
 * Two sides that insert at one place (each appends a line to the same todo's notes) give their new children
 * the same order key (`generateKeyBetween` of the same neighbours); the tree then orders them by node id
 * (`tree.ts` visibleChildren). A line's, or an item's without identity, id names its writer's counter —
 * how many such children that side's ingest had created before it (`childId(parent, 'u:<client>.<n>')`).
 * The region merge ingests a sub-document, so its counters start again at 0 and the tie could go the
 * other way than in the whole file's merge (merge.test.ts seeds 1859, 2860). Ids that name a key, an
 * identity or a set element are the same in both merges, and so is their order.
 */
import type { FileModel } from '../model.js'
import { ROOT, childId, type NodeId } from '../schema.js'

/** True when two siblings share an order key and one of them has an id made from a side's counter. */
export function counterTie(model: FileModel, clients: readonly number[]): boolean {
  const tree = model.tree
  const ties: Array<[NodeId, NodeId[]]> = []
  let nodes = 0
  const seen = new Set<NodeId>([ROOT])
  const todo: NodeId[] = [ROOT]
  while (todo.length) {
    const p = todo.pop()!
    const kids = tree.rawChildren(p)
    nodes += kids.length
    for (const c of kids) if (!seen.has(c)) seen.add(c), todo.push(c)
    const shown = tree.visibleChildren(p)
    const tied = new Set<NodeId>()
    for (let i = 1; i < shown.length; i++) {
      if (tree.placement(shown[i - 1]!)?.[1] === tree.placement(shown[i]!)?.[1]) tied.add(shown[i - 1]!).add(shown[i]!)
    }
    if (tied.size) ties.push([p, [...tied]])
  }
  // A side's counter never passes the number of nodes it created, all of them in the tree.
  for (const [p, tied] of ties) {
    const counted = new Set<NodeId>()
    for (const c of clients) for (let n = 0; n <= nodes; n++) counted.add(childId(p, `u:${c.toString(36)}.${n.toString(36)}`))
    if (tied.some((id) => counted.has(id))) return true
  }
  return false
}
