/**
 * One git command, two merges of a file: `git pull` with an uncommitted edit merges the commits (a conflict,
 * recorded), then applies the autostash over the result (no conflict). The second merge dropped the first
 * one's record, though git had printed "see `ctxsync resolve --list`" (issue 15 item 5; e2e:
 * merge-records.test.ts 'the record outlives the autostash apply'). A merge that builds on a record's merged
 * text carries its conflicts (`keepMerge`); a merge of other text still replaces or drops it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { runMergeJob } from '../../src/space/mergejob.js'
import { keepMerge } from '../../src/space/mergefile.js'
import { mergeConflicts } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { removeSpaceDirs, SEED, spaceDir, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

const set = (text: string, from: string, to: string): string => {
  if (!text.includes(from)) throw new Error(`no ${from}`)
  return text.replace(from, to)
}

/** Runs the driver's job and keeps its outcome as the driver does; returns the merged text. */
async function driver(root: string, base: string, ours: string, theirs: string): Promise<string> {
  const r = await runMergeJob({ base, ours, theirs, name: TODOS, root, git: null })
  if (r.kind !== 'merged') throw new Error(r.why)
  await keepMerge(spacePaths(root), TODOS, ours, r.text, r.keep)
  await writeFile(root, TODOS, r.text)
  return r.text
}

describe('merge records across the steps of one git command', () => {
  it('an autostash applied without conflict over a merge keeps that merge\'s record; another merge of other text drops it', async () => {
    const root = await spaceDir({ name: 'pat' })
    const paths = spacePaths(root)
    const mine = set(SEED, 'title: second', 'title: two by pat')
    const tina = set(set(SEED, 'title: second', 'title: two by tina'), 'title: first', 'title: one by tina')
    const merged = await driver(root, SEED, mine, tina)
    expect((await mergeConflicts(paths, [])).map((c) => c.display)).toEqual(['todos[id=t1].title'])
    // The autostash (an uncommitted edit of t0's status, made on `mine`) applied over the merge's result.
    const stash = set(mine, 'status: todo', 'status: done')
    const applied = await driver(root, mine, merged, stash)
    expect(applied).toContain('status: done')
    const kept = await mergeConflicts(paths, [])
    expect(kept.map((c) => c.display), 'the pull\'s record after the apply').toEqual(['todos[id=t1].title'])
    expect(kept[0]!.values.map((v) => v.raw).sort()).toEqual(['two by pat', 'two by tina'])
    // And once more (a second apply, a rebase's next pick): still carried.
    await driver(root, applied, applied, set(applied, 'status: todo', 'status: blocked'))
    expect((await mergeConflicts(paths, [])).map((c) => c.display)).toEqual(['todos[id=t1].title'])

    // A merge of some other text without conflicts (a later pull on another branch): the old record is moot.
    await driver(root, SEED, SEED, set(SEED, 'title: first', 'title: uno'))
    expect(await mergeConflicts(paths, [])).toEqual([])
  })

  it('an apply that conflicts too keeps both merges\' conflicts', async () => {
    const root = await spaceDir({ name: 'pat' })
    const paths = spacePaths(root)
    const mine = set(SEED, 'title: second', 'title: two by pat')
    const merged = await driver(root, SEED, mine, set(set(SEED, 'title: second', 'title: two by tina'), 'title: first', 'title: one by tina'))
    // The stash changed t0's title too, which the merge's other side had changed.
    await driver(root, mine, merged, set(mine, 'title: first', 'title: one stashed'))
    expect((await mergeConflicts(paths, [])).map((c) => c.display).sort()).toEqual(['todos[id=t0].title', 'todos[id=t1].title'])
  })
})
