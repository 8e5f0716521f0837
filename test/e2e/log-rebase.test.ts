/**
 * `ctxsync log` lists a commit once after a rebase made it anew (issue 17 tester): git runs post-commit for
 * each commit a rebase makes (a sync point), notes.rewriteRef appends the old commit's point to the new
 * one's note, and the daemon journals the rebase naming the same commit — three entries for one commit.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, expectOk, freePort, killAll, removeTmpDirs, startWatch, TODOS, waitFor, waitLog, waitRecorders } from './helpers.js'
import { cloneAs, gitIn, gitTeam, replaceIn } from './gitHelpers.js'
import { parseNote } from '../../src/git/notes.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const notesOf = async (dir: string, commit: string) =>
  parseNote((await gitIn(dir, ['notes', '--ref=refs/notes/ctxsync', 'show', commit], { reject: false })).stdout)

describe('e2e: log after a rebase', { timeout: 120_000 }, () => {
  it('a commit git pull --rebase made anew is listed once, with what the daemon made of the rebase', async () => {
    const { remote, a } = await gitTeam([])
    const ann = a.dir
    const port = await freePort()
    const d = await startWatch({ name: 'ann', dir: ann, port, url: `ws://127.0.0.1:${port}` })
    await replaceIn(ann, TODOS, 'title: "Ship it"', 'title: "Ship it soon"')
    await gitIn(ann, ['commit', '-qam', 'ann renames t3'])
    const mine = (await gitIn(ann, ['rev-parse', 'HEAD'])).stdout.trim()
    await waitFor(async () => (await notesOf(ann, mine)).length > 0, 20_000, 'the sync point of ann\'s commit')

    const carl = await cloneAs(remote, 'carl')
    await replaceIn(carl, TODOS, 'title: "Fix the renderer"\n    status: open', 'title: "Fix the renderer"\n    status: done')
    await gitIn(carl, ['commit', '-qam', 'carl closes t2'])
    await gitIn(carl, ['push', '-q', 'origin', 'main'])

    await gitIn(ann, ['pull', '-q', '--rebase'])
    await waitRecorders([ann])
    // The daemon's journal of the rebase names the same commit.
    await waitLog(d, /took in [^\n]*git pull[^\n]*--rebase/)
    const head = (await gitIn(ann, ['rev-parse', 'HEAD'])).stdout.trim()
    expect(head).not.toBe(mine)
    // What made the duplicates: two points on the new commit (its own and the one copied from the old).
    await waitFor(async () => (await notesOf(ann, head)).length >= 2, 20_000, 'both points on the rebased commit')

    const { entries } = await ctxJson(ann, ['log'])
    const onHead = entries.filter((e: { commit: string }) => e.commit === head)
    expect(onHead.map((e: { via: string; author: string }) => `${e.via} ${e.author}`)).toEqual(['commit ann'])
    expect(entries.filter((e: { commit: string }) => e.commit === mine), JSON.stringify(entries, null, 1)).toEqual([])
    const text = (await expectOk(ctx(ann, ['log']))).stdout
    expect(text.split('\n').filter((l) => l.startsWith(head.slice(0, 7)))).toHaveLength(1)
  })
})
