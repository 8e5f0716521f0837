/**
 * A key renamed on one clone while the other changes its value (issue 13 item 5), through the built CLI and
 * two daemons: a scalar's key renamed against a new value, and a list's key renamed against an item deleted
 * from it. Neither edit may vanish: each race ends with the renamed key holding the changed value, or with
 * the old key back beside the renamed one holding the change and a conflict both peers list alike.
 * `test/crdt/rename-race.test.ts` is the generator behind it (every value kind, both delivery orders).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ctx, ctxJson, edit, explained, killAll, readFile, removeTmpDirs, setupSpace, startWatch, stopWatch, TODOS, waitSame, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const FILE = `# Team todos — a rename against a value change
todos:
  - id: t1
    title: "First task"   # inline comment
    status: open
    tags:
      - cleanup
      - api
  - id: t2
    title: "Second task"
    status: open
`

describe('e2e: a rename against a value change', { timeout: 120_000 }, () => {
  it('keeps both edits on both daemons: the renamed key holds the change, or the old key comes back with it and a conflict', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: FILE } })
    const [a, b] = peers as [Peer, Peer]
    // The peers are apart (no daemon runs): A renames two keys, B changes their values.
    await edit(a, '    title: "First task"', '    summary: "First task"')
    await edit(a, '    tags:\n      - cleanup', '    topics:\n      - cleanup')
    await edit(b, 'title: "First task"', 'title: "First task, edited by B"')
    await edit(b, '      - cleanup\n', '')

    const da = await startWatch(a)
    const db = await startWatch(b)
    const text = await explained(waitSame([a, b], TODOS, (t) => t.includes('summary:') && t.includes('edited by B') && t.includes('topics:')), [a, b], [da, db])
    const t1 = (parse(text) as { todos: Array<Record<string, unknown>> }).todos.find((t) => t.id === 't1')!
    const conflicts = [(await ctxJson(a.dir, ['resolve', '--list'])).conflicts, (await ctxJson(b.dir, ['resolve', '--list'])).conflicts]
    expect(conflicts[0]).toEqual(conflicts[1])

    // The scalar: B's value under the new name, or under the old name beside A's rename, recorded.
    if (t1.summary === 'First task, edited by B') expect(t1).not.toHaveProperty('title')
    else {
      expect(t1).toMatchObject({ summary: 'First task', title: 'First task, edited by B' })
      expect(conflicts[0].some((c: any) => c.kind === 'delete' && c.display.includes('title')), JSON.stringify(conflicts[0])).toBe(true)
    }
    // The list: B's deletion under the new name, or the old name back without the deleted item, recorded.
    if (!('tags' in t1)) expect(t1.topics).toEqual(['api'])
    else {
      expect(t1).toMatchObject({ topics: ['cleanup', 'api'], tags: ['api'] })
      expect(conflicts[0].some((c: any) => c.kind === 'delete' && c.display.includes('tags')), JSON.stringify(conflicts[0])).toBe(true)
    }
    // Everything else as both left it.
    expect(text).toContain('# Team todos — a rename against a value change')
    expect(text).toContain('  - id: t2\n    title: "Second task"\n    status: open\n')
    for (const p of [a, b]) expect((await ctx(p.dir, ['status', '--check'])).exitCode, p.name).toBe(conflicts[0].length ? 4 : 0)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
