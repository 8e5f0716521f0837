/**
 * The texts a file held between the commits of one pull, rebuilt for a peer that received them at once.
 *
 * The puller takes a pull's commits in one transaction each (space/gitsteps.ts), each ending with the
 * commit's git mark, and its live peers get one update per commit: one version each, each credited to its
 * commit's writer. A peer catching up later gets all of them in one update, one transaction: its history
 * made one change of the whole pull, named after every writer (issue 16).
 *
 * Inside that transaction — before Yjs collects overwritten values at its end — a register's earlier
 * writes are still linked to its current one (a map key's item to the one it replaced). The value a
 * register held once commit i was in is its newest write that the document held before the transaction,
 * or that the puller made up to commit i's mark, whose content survives. A value the puller overwrote in a
 * later commit of the same pull had already been collected where the update was made: that register shows
 * its change in the later commit only. Values others wrote in the same update, and registers deleted
 * outright, come with the last commit (the update does not say their order against the commits).
 */
import * as Y from 'yjs'
import { FileModel } from './model.js'
import type { Rules } from './rules.js'
import { NODES } from './schema.js'

/**
 * The text after each of the puller's marks but the last (clocks of `client`, ascending) in transaction
 * `tr` of `doc`, called from the document's `afterTransaction`. Null values: the file did not exist then.
 */
export function stepTexts(doc: Y.Doc, tr: Y.Transaction, client: number, marks: readonly number[], o: { name: string; rules?: Rules }): Array<string | null> {
  const scratch = new FileModel({ name: o.name, author: { id: 'steps', name: 'steps', kind: 'human' }, ...(o.rules ? { rules: o.rules } : {}) })
  try {
    scratch.load([Y.encodeStateAsUpdate(doc)])
    const map = scratch.tree.map
    const live = doc.getMap(NODES)
    const keys = [...(tr.changed.get(live as never) ?? [])].filter((k): k is string => k !== null)
    const held = (it: Y.Item, mark: number) => it.id.clock < (tr.beforeState.get(it.id.client) ?? 0) || (it.id.client === client && it.id.clock <= mark)
    const out: Array<string | null> = []
    for (const mark of marks.slice(0, -1)) {
      const writes: Array<[string, unknown]> = []
      for (const k of keys) {
        // Collected content (a write overwritten where the update was made) says nothing: an older write does.
        let it = live._map.get(k) as Y.Item | null | undefined
        while (it && !(held(it, mark) && !(it.content instanceof Y.ContentDeleted))) it = it.left instanceof Y.Item && it.left.parentSub === k ? it.left : null
        // Deleted before this transaction: the register had no value then (deleted in it: it had this one).
        const gone = !it || (it.deleted && !Y.isDeleted(tr.deleteSet, it.id))
        writes.push([k, gone ? undefined : structuredClone(it!.content.getContent().at(-1))])
      }
      scratch.doc.transact(() => {
        for (const [k, v] of writes) if (v === undefined) map.delete(k)
        else map.set(k, v)
      })
      out.push(scratch.render().text)
    }
    return out
  } finally {
    scratch.destroy()
  }
}
