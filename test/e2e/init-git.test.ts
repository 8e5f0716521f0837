/**
 * `init` and git's boundaries: a repository nested in a directory that holds a space is a project of its
 * own (its own space, never the outer one's), and outside any repository `init` says what is missing and
 * goes on only with `--no-git`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, expectOk, freePort, git, killAll, makeRepo, removeTmpDirs, SMALL_TODOS, startWatch, TODOS, tmpDir, waitFor, waitLog, writeText, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

describe('e2e: init and git', { timeout: 120_000 }, () => {
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

  it('the outer space stops at a nested repository, with or without a space of its own: its files are never listed, watched or synced', async () => {
    const outer = await makeRepo({ [TODOS]: SMALL_TODOS })
    const port = await freePort()
    await ctxJson(outer, ['init', '--name', 'outer', '--discovery', 'none', '--port', String(port)])
    const inner = path.join(outer, 'inner')
    const innerTodos = `inner/${TODOS}`
    await writeText(path.join(inner, TODOS), SMALL_TODOS.replace('First task', 'Inner task'))
    await git(inner, ['init', '-q'])
    // A submodule's or worktree's .git is a file: a repository all the same.
    await writeText(path.join(outer, 'mod', TODOS), SMALL_TODOS.replace('First task', 'Module task'))
    await writeText(path.join(outer, 'mod', '.git'), 'gitdir: ../.git/modules/mod\n')
    const paths = async (dir: string) => (await ctxJson(dir, ['status'])).files.map((f: { path: string }) => f.path)
    expect(await paths(outer)).toEqual([TODOS])
    // With the outer daemon running: edits inside the nested repositories are not the outer space's.
    const peer: Peer = { name: 'outer', dir: outer, port, url: `ws://127.0.0.1:${port}` }
    const d = await startWatch(peer)
    expect(d.log()).toMatch(/watching 1 file\(s\)/)
    for (const rel of [innerTodos, `mod/${TODOS}`]) await fs.promises.appendFile(path.join(outer, rel), '# edited\n')
    await fs.promises.appendFile(path.join(outer, TODOS), '# outer edit\n')
    await waitLog(d, new RegExp(`${TODOS.replace(/[./]/g, '\\$&')}: your edit taken in`))
    expect(d.log()).not.toMatch(/inner\/|mod\//)
    expect(await paths(outer)).toEqual([TODOS])
    // The inner repository gets a space of its own: the outer one still stops at it.
    const i = await ctxJson(inner, ['init', '--name', 'inner', '--discovery', 'none'])
    expect(i.enrolled).toEqual([TODOS])
    await fs.promises.appendFile(path.join(inner, TODOS), '# edited again\n')
    await fs.promises.appendFile(path.join(outer, TODOS), '# outer edit again\n')
    await waitFor(() => (d.log().match(/todos\.yaml: your edit taken in/g) ?? []).length >= 2, 15_000, 'the second outer edit', d.log)
    expect(d.log()).not.toMatch(/inner\/|mod\//)
    expect(await paths(outer)).toEqual([TODOS])
    expect(await paths(inner)).toEqual([TODOS])
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
