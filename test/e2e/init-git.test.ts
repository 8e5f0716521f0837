/**
 * `init` and git's boundaries: a repository nested in a directory that holds a space is a project of its
 * own (its own space, never the outer one's), and outside any repository `init` says what is missing and
 * goes on only with `--no-git`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ctx, ctxJson, expectOk, git, makeRepo, removeTmpDirs, SMALL_TODOS, TODOS, tmpDir, writeText } from './helpers.js'

afterAll(removeTmpDirs)

describe('e2e: init and git', { timeout: 60_000 }, () => {
  it('a repository nested under a space gets its own space, and commands inside it never use the outer one', async () => {
    const outer = await makeRepo({ [TODOS]: SMALL_TODOS })
    const o = await ctxJson(outer, ['init', '--name', 'outer', '--discovery', 'none'])
    const inner = path.join(outer, 'vendor', 'inner')
    await writeText(path.join(inner, TODOS), SMALL_TODOS.replace('First task', 'Inner task'))
    await git(inner, ['init', '-q'])
    // Before its own init, the nested repository is not a member of anything.
    const st = await ctx(inner, ['status'])
    expect(st.exitCode).not.toBe(0)
    expect(st.stderr).toMatch(/ctxsync init/)
    const i = await ctxJson(inner, ['init', '--name', 'inner', '--discovery', 'none'])
    expect(i.root).toBe(fs.realpathSync(inner))
    expect(i.space).not.toBe(o.space)
    expect(i.enrolled).toEqual([TODOS])
    expect(fs.existsSync(path.join(inner, 'ctxsync.yaml'))).toBe(true)
    expect((await ctxJson(inner, ['status'])).files.map((f: { path: string }) => f.path)).toEqual([TODOS])
  })

  it('outside a git repository init says what that means and needs --no-git', async () => {
    const dir = await tmpDir('ctxsync-nogit-')
    await writeText(path.join(dir, TODOS), SMALL_TODOS)
    const r = await ctx(dir, ['init', '--name', 'x', '--discovery', 'none'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/is not in a git repository/)
    expect(r.stderr).toMatch(/no sync points/)
    expect(r.stderr).toMatch(/no hooks/)
    expect(r.stderr).toMatch(/--no-git/)
    expect(fs.existsSync(path.join(dir, 'ctxsync.yaml'))).toBe(false)
    expect(fs.existsSync(path.join(dir, '.ctxsync'))).toBe(false)
    const ok = await expectOk(ctx(dir, ['init', '--name', 'x', '--discovery', 'none', '--no-git', '--json']))
    expect(JSON.parse(ok.stdout).enrolled).toEqual([TODOS])
  })
})
