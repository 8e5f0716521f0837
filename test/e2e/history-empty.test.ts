/**
 * An empty `history` is said as what was asked: `history --author nobody` said "no changes kept yet" on a
 * machine that kept changes (issue 17, black-box tester), which reads as "nothing recorded", not as "that
 * name made none". It now says no change by that author is kept, and who made the ones that are.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { clone, ctx, edit, expectOk, git, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, TODOS, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const says = async (dir: string, args: string[]) => (await expectOk(ctx(dir, ['history', ...args]))).stdout.trim()

describe('e2e: an empty history', { timeout: 60_000 }, () => {
  it('names the filter that matched nothing, and the authors of the changes that are kept', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [Peer]
    const kept = JSON.parse((await expectOk(ctx(a.dir, ['history', '--json']))).stdout).changes
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.flatMap((c: { authors: Array<{ name: string }> }) => c.authors.map((x) => x.name))).toEqual(['a'])

    expect(await says(a.dir, ['--author', 'nobody'])).toBe('no change by nobody is kept on this machine; the ones kept are by: a')
    expect(await says(a.dir, [TODOS, '--author', 'nobody', '--since', '1h'])).toBe('no change to .rhema/todos.yaml by nobody since 1h is kept on this machine; the ones kept are by: a')
    const later = '2999-01-01T00:00'
    expect(await says(a.dir, ['--author', 'nobody', '--since', later])).toBe(`no change by nobody since ${later} is kept on this machine; none by anyone else either`)
    expect(await says(a.dir, ['--since', later])).toBe(`no change since ${later} is kept on this machine`)
    // JSON stays the list it was.
    expect(JSON.parse((await expectOk(ctx(a.dir, ['history', '--author', 'nobody', '--json']))).stdout)).toEqual({ changes: [] })
    // -n 0 asks for nothing (as git log -n 0): nothing printed, not "no changes kept yet".
    expect(await says(a.dir, ['-n', '0'])).toBe('')
    // A clone that never joined keeps nothing because it is no member yet, which is what it is told.
    const c = await clone(a.dir, 'c')
    expect(await says(c, [])).toBe('no changes kept: this clone has not joined the space (`ctxsync status` says how to join); history starts once it has')
    expect(JSON.parse((await expectOk(ctx(c, ['history', '--json']))).stdout)).toEqual({ changes: [], notJoined: true })
    // Given the team's sync points (notes fetched), it lists their commits: git's history needs no membership.
    await edit(a, '"First task"', '"First task, committed"')
    await git(a.dir, ['commit', '-qam', 'a: first task'])
    await ctx(a.dir, ['sync']) // records HEAD's sync point (exit 3: no peer to reach)
    const d = await clone(a.dir, 'd')
    await git(d, ['fetch', '-q', 'origin', 'refs/notes/*:refs/notes/*'])
    const listed = JSON.parse((await expectOk(ctx(d, ['history', '--json']))).stdout).changes
    expect(listed.map((x: { via: string; subject: string }) => [x.via, x.subject])).toContainEqual(['commit', 'a: first task'])
  })
})
