/**
 * A sync point stays with the commit it was recorded at (issue 16, black-box tester): carl pushed his change,
 * bob committed the same change (his daemon had brought it live) and ran `git pull --rebase`; git dropped
 * bob's commit as already upstream and, through notes.rewriteRef, copied its note onto carl's commit —
 * `ctxsync log` showed bob's sync point "recorded at commit" on carl's commit, and bob's push shared it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { ctx, expectOk, removeTmpDirs, TODOS } from './helpers.js'
import { cloneAs, gitIn, gitTeam, replaceIn } from './gitHelpers.js'
import { parseNote } from '../../src/git/notes.js'

afterAll(removeTmpDirs)

const notesOf = async (dir: string, commit: string) =>
  parseNote((await gitIn(dir, ['notes', '--ref=refs/notes/ctxsync', 'show', commit], { reject: false })).stdout)

describe('e2e: sync points through a rebase', { timeout: 120_000 }, () => {
  it('a commit dropped by git pull --rebase as already upstream: its sync point is not moved onto the teammate\'s commit', async () => {
    const { remote, joined } = await gitTeam(['bob'])
    const bob = joined[0]!
    await gitIn(bob, ['pull', '-q', '--rebase'])
    const carl = await cloneAs(remote, 'carl')
    // Two commits on carl's side, one on bob's with both changes: bob's patch is no single one of carl's, so
    // the rebase picks it, finds it empty, and drops it (the path that maps it onto HEAD).
    await replaceIn(carl, TODOS, 'title: "Fix the renderer"\n    status: open', 'title: "Fix the renderer"\n    status: done')
    await gitIn(carl, ['commit', '-qam', 'add T-2'])
    await replaceIn(carl, TODOS, 'title: "Ship it"\n    status: open', 'title: "Ship it"\n    status: done')
    await gitIn(carl, ['commit', '-qam', 'add T-3'])
    await gitIn(carl, ['push', '-q', 'origin', 'main'])
    await replaceIn(bob, TODOS, 'title: "Fix the renderer"\n    status: open', 'title: "Fix the renderer"\n    status: done')
    await replaceIn(bob, TODOS, 'title: "Ship it"\n    status: open', 'title: "Ship it"\n    status: done')
    await gitIn(bob, ['commit', '-qam', 'live'])
    const mine = (await gitIn(bob, ['rev-parse', 'HEAD'])).stdout.trim()
    // The post-commit hook records in the background; `ctxsync log` waits for it like a push does.
    for (let i = 0; i < 100 && (await notesOf(bob, mine)).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    expect((await notesOf(bob, mine)).map((p) => [p.by, p.via])).toEqual([['bob', 'commit']])

    const pulled = await gitIn(bob, ['pull', '--rebase'])
    const head = (await gitIn(bob, ['rev-parse', 'HEAD'])).stdout.trim()
    const carls = (await gitIn(carl, ['rev-parse', 'HEAD'])).stdout.trim()
    expect(head, pulled.stderr).toBe(carls)
    expect(await notesOf(bob, carls)).toEqual([])
    // Bob's own commit keeps it; the log says nothing of bob at carl's commit.
    expect((await notesOf(bob, mine)).map((p) => p.by)).toEqual(['bob'])
    const log = (await expectOk(ctx(bob, ['log', '-n', '5']))).stdout
    expect(log).not.toMatch(/bob \(recorded at commit\)/)

    // A commit rebased for real keeps its sync point (notes.rewriteRef, as before).
    await replaceIn(carl, TODOS, '"Ship it"', '"Ship it soon"')
    await gitIn(carl, ['commit', '-qam', 'rename T-3'])
    await gitIn(carl, ['push', '-q', 'origin', 'main'])
    await replaceIn(bob, TODOS, '"Write the parser"', '"Write the parser (bob)"')
    await gitIn(bob, ['commit', '-qam', 'bob renames T-1'])
    const own = (await gitIn(bob, ['rev-parse', 'HEAD'])).stdout.trim()
    for (let i = 0; i < 100 && (await notesOf(bob, own)).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    await gitIn(bob, ['pull', '-q', '--rebase'])
    const rebased = (await gitIn(bob, ['rev-parse', 'HEAD'])).stdout.trim()
    expect(rebased).not.toBe(own)
    // (git runs post-commit for the commit the rebase makes: that one gets a sync point of its own too)
    const was = (await notesOf(bob, own))[0]!
    expect((await notesOf(bob, rebased)).map((p) => p.at)).toContain(was.at)
  })
})
