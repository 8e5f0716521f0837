/**
 * A merge-driver delete-versus-edit record follows the rules of value records (mergeseen.ts): when this
 * clone's live context had held the item as edited and then seen it deleted before the merge, the merge's
 * record is no race and is dropped once the daemon takes the merged file in. Before, such a record stayed
 * listed on the merging clone for good whenever one side's version was never held here (a teammate's
 * commit carrying the edit among other changes), though both its values were. A record whose edit never
 * reached the live context stays, for `resolve`.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { runMergeJob } from '../../src/space/mergejob.js'
import { mergeConflicts, saveMerge } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { annAfter, idle, removeSpaceDirs, SEED, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

const EDITED = SEED.replace('title: second', 'title: second, edited')
const DELETED = SEED.replace(/ {2}- id: t1\n[\s\S]*$/, '')

/** ann's live history (`live`), then a merge of her deletion with a commit she never held that edits t1. */
async function mergeAfter(live: string[]): Promise<Array<{ kind: string; display: string }>> {
  const a = await annAfter(live)
  try {
    // The teammate's commit: t1 as edited, and a change of their own the live context never had.
    const theirs = EDITED.replace('title: first', 'title: first, offline')
    await new Promise((r) => setTimeout(r, 20)) // the merge comes after the history (ms times)
    const r = await runMergeJob({ base: SEED, ours: DELETED, theirs, name: TODOS, root: a.root, git: null })
    if (r.kind !== 'merged' || !r.keep) throw new Error(`no record kept: ${JSON.stringify(r)}`)
    const paths = spacePaths(a.root)
    await saveMerge(paths, TODOS, r.keep)
    expect((await mergeConflicts(paths, [])).map((c) => c.kind)).toEqual(['delete'])
    // As after git's merge: the file is the driver's text, taken in by the daemon (which adopts or drops records).
    await writeFile(a.root, TODOS, r.text)
    await a.s.scan()
    await idle(a.s)
    return await mergeConflicts(paths, [])
  } finally {
    await a.close()
  }
}

describe('merge-driver delete-versus-edit records', () => {
  it('dropped when the live context held the edit and then the deletion', async () => {
    expect(await mergeAfter([EDITED, DELETED])).toEqual([])
  })

  it('kept when the edit never reached the live context', async () => {
    expect((await mergeAfter([DELETED])).map((c) => c.kind)).toEqual(['delete'])
  })
})
