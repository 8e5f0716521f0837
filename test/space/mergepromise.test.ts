/**
 * The merge driver sends people to `resolve --list` only for records that will be listed (issue 15 item 5:
 * after `git pull --rebase`, "3 value(s) changed on both sides — see `ctxsync resolve --list`", and nothing
 * was listed). A value conflict whose values the live context had held in turn before the merge is dropped
 * when the daemon takes the merged file in (mergeseen.ts); the driver now says so instead of promising it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mergeConflicts } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { annAfter, driverMerge, idle, removeSpaceDirs, SEED, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

const title = (t: string) => SEED.replace('title: second', `title: ${t}`)

/** ann's live history (`live`), then the driver merges pat's title with bob's commit (which the live context never held whole). */
async function driverAfter(live: string[]): Promise<{ said: string[]; listed: string[] }> {
  const a = await annAfter(live)
  try {
    const { conflicts, said, merged } = await driverMerge(a, SEED, title('two by pat'), title('two by bob').replace('title: first', 'title: first, offline'))
    expect(conflicts).toBe(1)
    // As after git's merge: the file is the driver's text, taken in by the daemon (which adopts or drops records).
    await writeFile(a.root, TODOS, merged)
    await a.s.scan()
    await idle(a.s)
    const paths = spacePaths(a.root)
    const listed = [...(await mergeConflicts(paths, [])), ...a.s.conflicts()].map((c) => c.display)
    return { said, listed }
  } finally {
    await a.close()
  }
}

describe('the merge driver promises only records that are listed', () => {
  it('values the live context held in turn: no record, and the driver sends nobody to resolve --list', async () => {
    const { said, listed } = await driverAfter([title('two by pat'), title('two by bob')])
    expect(listed).toEqual([])
    expect(said.join('\n')).not.toMatch(/resolve --list/)
    expect(said.join('\n')).toMatch(/held here in turn/)
  })

  it('a value the live context never held: listed, as the driver says', async () => {
    const { said, listed } = await driverAfter([title('two by pat')])
    expect(listed).toEqual(['todos[id=t1].title'])
    expect(said.join('\n')).toMatch(/1 value\(s\) changed on both sides — kept one, see `ctxsync resolve --list`/)
  })
})
