/**
 * Sync points are versions too (issue 16), through the built CLI: two commits that change a field, each
 * with the sync point its post-commit hook records, are `history` entries among the live edits, in time
 * order, with the writer the sync point names (a, an agent; not git's author `e2e`) and the fields each
 * changed; `show`, `diff` and `restore --to` take the listed id, and `undo` of it says it is a commit.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, edit, expectOk, git, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitChange, waitFileEquals, waitFor, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const touches = (c: any, p: string) => c.fields.some((f: any) => f.path === p)

/** Commit times are whole seconds: the next one is in a later second than `iso` (a version's time). */
const afterSecondOf = (iso: string) => waitFor(() => Math.floor(Date.now() / 1000) > Math.floor(Date.parse(iso) / 1000), 5_000, 'the next second')

describe('e2e: history lists sync points', { timeout: 120_000 }, () => {
  it('two commits with sync points: listed with their writer and fields, in time order among the live edits', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [Peer]
    const local = path.join(a.dir, '.ctxsync', 'local.yaml')
    fs.writeFileSync(local, fs.readFileSync(local, 'utf8').replace('agent: false', 'agent: true'))
    await expectOk(ctx(a.dir, ['hooks', 'install']))
    const da = await startWatch(a)

    const text1 = await edit(a, '    title: "First task"   # inline comment\n    status: open', '    title: "First task"   # inline comment\n    status: doing')
    const v1 = await waitChange(a, (c) => c.via === 'local' && touches(c, 'todos[id=t1].status'), 'the first live edit')
    await afterSecondOf(v1.time)
    await git(a.dir, ['commit', '-qam', 'a starts t1'])
    const c1hash = (await git(a.dir, ['rev-parse', 'HEAD'])).trim()
    const c1 = await waitChange(a, (c) => c.via === 'commit' && c.commit === c1hash, 'the first commit listed')

    const text2 = await edit(a, '"Second task"', '"Second task, renamed"')
    const v2 = await waitChange(a, (c) => c.via === 'local' && touches(c, 'todos[id=t2].title'), 'the second live edit')
    await afterSecondOf(v2.time)
    await git(a.dir, ['commit', '-qam', 'a renames "t2"'])
    const c2hash = (await git(a.dir, ['rev-parse', 'HEAD'])).trim()
    const c2 = await waitChange(a, (c) => c.via === 'commit' && c.commit === c2hash, 'the second commit listed')

    const all = (await ctxJson(a.dir, ['history', TODOS, '--json'])).changes
    const at = (x: any) => all.findIndex((c: any) => c.id === x.id)
    // Newest first: c2, the edit it committed, c1, the edit it committed.
    expect([at(c2), at(v2), at(c1), at(v1)]).toEqual([...[at(c2), at(v2), at(c1), at(v1)]].sort((x, y) => x - y))
    expect(at(c2)).toBe(0)
    expect(c1).toMatchObject({ via: 'commit', file: TODOS, subject: 'a starts t1', authors: [{ name: 'a', kind: 'agent' }] })
    expect(c1.id).toBe(c1hash.slice(0, c1.id.length))
    expect(c1.fields).toEqual([{ path: 'todos[id=t1].status', kind: 'changed', before: '"open"', after: '"doing"' }])
    expect(c2).toMatchObject({ via: 'commit', subject: 'a renames "t2"', authors: [{ name: 'a', kind: 'agent' }] })
    expect(c2.fields).toEqual([{ path: 'todos[id=t2].title', kind: 'changed', before: '"Second task"', after: '"Second task, renamed"' }])
    expect(all.filter((c: any) => c.via === 'commit').map((c: any) => c.id)).toEqual([c2.id, c1.id])

    // -n and --author apply to them; the text names the commit and its subject.
    expect((await ctxJson(a.dir, ['history', '-n', '1', '--json'])).changes.map((c: any) => c.id)).toEqual([c2.id])
    expect((await ctxJson(a.dir, ['history', '--author', 'e2e', '--json'])).changes).toEqual([])
    const text = (await expectOk(ctx(a.dir, ['history', TODOS]))).stdout
    expect(text).toContain(`${c2.id}  `)
    expect(text).toContain(`(commit ${c2.id} "a renames \\"t2\\"")`)

    // show, diff and restore take the listed id; undo of it says what it is and what to run instead.
    expect((await expectOk(ctx(a.dir, ['show', c2.id, TODOS]))).stdout).toBe(text2.replace(/\n$/, ''))
    const d = await ctxJson(a.dir, ['diff', c1.id, c2.id, TODOS, '--json'])
    expect(d.files[0].changes.map((c: any) => c.path)).toEqual(['todos[id=t2].title'])
    const u = await ctx(a.dir, ['undo', c2.id])
    expect(u.exitCode).toBe(1)
    expect(u.stderr).toContain(`${c2.id} is git commit ${c2hash.slice(0, 12)}, not a change made here`)
    expect(u.stderr).toContain(`ctxsync restore PATH --to ${c2.id}`)
    await expectOk(ctx(a.dir, ['restore', TODOS, '--to', c1.id]))
    await waitFileEquals(a, text1)
    const restored = await waitChange(a, (c) => c.via === 'restore', 'the restore')
    // An undo of a change kept here names it.
    await expectOk(ctx(a.dir, ['undo']))
    await waitFileEquals(a, text2)
    await waitChange(a, (c) => c.via === 'undo', 'the undo')
    expect((await expectOk(ctx(a.dir, ['history', TODOS, '-n', '1']))).stdout).toContain(`(undo of ${restored.id})`)
    expect(await stopWatch(da)).toBe(0)
  })
})
