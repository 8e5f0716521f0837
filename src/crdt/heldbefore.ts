/**
 * Whether a register's live value was written over a given writer's value — how the live context held a
 * commit's value before replacing it (space/gitsupersede.ts, the merge driver's "superseded" rule). Read from
 * how the values were written (Yjs `origin` and `left`, the authors and git marks maps), since the overwritten
 * values' content is collected by Yjs. Pure: no I/O.
 */
import * as Y from 'yjs'
import type { FileModel } from './model.js'
import { AUTHORS, GIT_MARKS, NODES, type Credit } from './schema.js'

/**
 * Was `item` (a register's live value) written over the commit's value as the live context held it: a value
 * the commit's writer `by` had set live, or one a peer took in from git with the commit's version (its git
 * mark `mark`: the text's hash, first 16 hex digits)?
 * Walks the items each writer saw there (`origin`, found among the register's earlier items, `left`), not the
 * ones it raced with.
 */
export function heldBefore(model: FileModel, item: Y.Item | undefined, by: Credit, mark: string): boolean {
  const authors = model.doc.getMap<[string, string, string]>(AUTHORS)
  const named = (client: number): boolean => {
    const a = authors.get(String(client))
    if (!a || a[0].startsWith('git:')) return false
    return a[0] === by[0] || (by[0].startsWith('git:') && a[1] === by[1])
  }
  const taken = takenIn(model, mark)
  const has = (z: Y.Item, id: Y.ID) => z.id.client === id.client && z.id.clock <= id.clock && id.clock < z.id.clock + z.length
  let want = item?.origin ?? null
  for (let z = item?.left ?? null, n = 0; z && want && n < 10_000; z = z.left, n++) {
    if (!has(z, want)) continue
    want = z.origin
    if ((want && named(z.id.client)) || taken(z)) return true
  }
  return false
}

/**
 * Was a register write made by a peer's take-in from git of the text whose mark is `mark` (a teammate's commit pulled live: the
 * value's writer is the peer that pulled)? The take-in writes the registers and then, in the same
 * transaction, that text's git mark (`ingestAsGit`): the write is the mark's client's, and that client wrote
 * only registers (and its author entry) from it to the mark.
 */
function takenIn(model: FileModel, mark: string): (z: Y.Item) => boolean {
  const marks = (model.doc.getMap(GIT_MARKS) as unknown as { _map: Map<string, Y.Item> })._map
  const within = new Set<unknown>([model.doc.getMap(NODES), model.doc.getMap(AUTHORS)])
  const at: Y.Item[] = []
  for (let m = marks.get(mark) ?? null, n = 0; m && n < 64; m = m.left, n++) at.push(m)
  return (z) => at.some((m) => {
    if (m.id.client !== z.id.client || m.id.clock <= z.id.clock) return false
    const list = model.doc.store.clients.get(m.id.client) as Array<Y.Item | Y.GC> | undefined
    if (!list) return false
    for (let i = Y.findIndexSS(list, z.id.clock) + 1, n = 0; i < list.length && list[i]!.id.clock < m.id.clock; i++, n++) {
      const x = list[i]!
      if (n > 10_000 || !(x instanceof Y.Item) || !within.has(x.parent)) return false
    }
    return true
  })
}
