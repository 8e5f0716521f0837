/**
 * A merge-driver record whose sides no commit or sync point identifies (the driver run with no git context,
 * as for `git merge-file`-like use, or on texts no commit of the operation holds) names no placeholder: its
 * values said 'ours' / 'theirs', and the daemon's line "To keep theirs's (…)". Now such a side's author is
 * plainly unknown; a side git identifies keeps its commit author (mergejob.ts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { runMergeJob } from '../../src/space/mergejob.js'
import { mergeConflicts, saveMerge } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { appeared } from '../../src/space/conflictlog.js'
import { readIdentity } from '../../src/space/secrets.js'
import { removeSpaceDirs, SEED, spaceDir, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

describe('merge-driver records name real authors or say they are unknown', () => {
  it('sides no commit identifies: no "ours"/"theirs", no "theirs\'s"', async () => {
    const root = await spaceDir({ name: 'ann' })
    const paths = spacePaths(root)
    const ours = SEED.replace('title: second\n    status: todo', 'title: second\n    status: done')
    const theirs = SEED.replace('title: second\n    status: todo', 'title: second\n    status: blocked')
    const r = await runMergeJob({ base: SEED, ours, theirs, name: TODOS, root, git: null })
    expect(r.kind).toBe('merged')
    if (r.kind !== 'merged') return
    expect(r.conflicts).toBe(1)
    // As after git's merge: the driver's text is the file, its record kept beside it.
    await writeFile(root, TODOS, r.text)
    await saveMerge(paths, TODOS, r.keep!)
    const [c] = await mergeConflicts(paths, [])
    expect(c, 'the kept record').toBeDefined()
    const names = c!.values.map((v) => v.author.name)
    for (const n of names) expect(n).not.toMatch(/^(ours|theirs)$/)
    expect(names.every((n) => /unknown/.test(n)), names.join(', ')).toBe(true)
    const me = (await readIdentity(paths.identity))!.id
    const line = appeared(c!, me)
    expect(line).not.toMatch(/\b(ours|theirs)('s)?\b/)
    expect(line).toMatch(/unknown/)
  })
})
