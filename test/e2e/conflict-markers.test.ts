/**
 * A context file left with git's conflict markers (a `git merge` without the merge driver) is held, and every
 * place that reports a held file says what it is — an unfinished merge, and how to finish it — at the first
 * marker's line, rather than the YAML parser's message about some line near it (issue 17 tester: "Implicit
 * keys need to be on a single line at line 3, column 1"). Through the built CLI: status, sync, the daemon.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, edit, git, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, statusJson, stopWatch, TODOS, waitLog } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const MARKERS = /holds git conflict markers \(an unfinished merge\): finish the merge — edit the file to keep what each side should, or take one side with `git checkout --ours <file>` or `--theirs <file>` — then `git add` it; `ctxsync hooks install` sets up the merge driver, which merges context files without markers/

describe('e2e: a file holding git conflict markers', { timeout: 120_000 }, () => {
  it('is held, and status, sync and the daemon say it is an unfinished merge, at the first marker\'s line', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    // Both branches change the same title; a merge without the driver leaves git's markers.
    await git(a.dir, ['checkout', '-qb', 'feat'])
    await edit(a, 'title: "First task"', 'title: "First task (feat)"')
    await git(a.dir, ['commit', '-qam', 'feat'])
    await git(a.dir, ['checkout', '-q', 'main'])
    await edit(a, 'title: "First task"', 'title: "First task (main)"')
    await git(a.dir, ['commit', '-qam', 'main'])
    await git(a.dir, ['merge', 'feat']).catch(() => undefined) // exits 1: conflict
    const text = readFile(a)!
    const line = text.split('\n').findIndex((l) => l.startsWith('<<<<<<< ')) + 1
    expect(line, text).toBeGreaterThan(0)

    const f = (await statusJson(a)).files.find((x: { path: string }) => x.path === TODOS)
    expect(f).toMatchObject({ state: 'held', error: { line, col: 1 } })
    expect(f.error.message).toMatch(MARKERS)
    const st = await ctx(a.dir, ['status'])
    expect(st.stdout).toMatch(new RegExp(`held {4}\\.rhema/todos\\.yaml:${line}:1  ${MARKERS.source}`))
    expect(st.stdout).not.toMatch(/Implicit keys|YAML error/)

    // Committed as it is (`git commit -a` takes the markers too): git is no longer mid-merge, so the sync and
    // the daemon, which wait while it is, read the file now.
    await git(a.dir, ['commit', '-qam', 'merge feat, markers and all'])
    const db = await startWatch(b)
    const sync = await ctx(a.dir, ['sync', '--peer', b.url, '--timeout', '20'])
    expect(sync.stdout + sync.stderr).toMatch(new RegExp(`held \\.rhema/todos\\.yaml:${line}:1: ${MARKERS.source}`))
    expect(sync.stdout + sync.stderr).not.toMatch(/Implicit keys/)
    await stopWatch(db)

    const da = await startWatch(a)
    await waitLog(da, new RegExp(`\\.rhema/todos\\.yaml:${line}:1: ${MARKERS.source} — held: nothing from it is sent until it parses again`))
    expect(da.log()).not.toMatch(/Implicit keys/)
  })

  it('while the daemon runs and git is still mid-merge, status and the daemon say so (the daemon waits for git: status showed `pending`, the log nothing)', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [typeof peers[0]]
    await git(a.dir, ['checkout', '-qb', 'feat'])
    await edit(a, 'title: "First task"', 'title: "First task (feat)"')
    await git(a.dir, ['commit', '-qam', 'feat'])
    await git(a.dir, ['checkout', '-q', 'main'])
    await edit(a, 'title: "First task"', 'title: "First task (main)"')
    await git(a.dir, ['commit', '-qam', 'main'])
    const da = await startWatch(a)
    await git(a.dir, ['merge', 'feat']).catch(() => undefined) // exits 1: conflict, MERGE_HEAD stays
    const line = readFile(a)!.split('\n').findIndex((l) => l.startsWith('<<<<<<< ')) + 1
    expect(line).toBeGreaterThan(0)
    const st = await statusJson(a)
    expect(st.daemon.running).toBe(true)
    const f = st.files.find((x: { path: string }) => x.path === TODOS)
    expect(f).toMatchObject({ state: 'held', error: { line, col: 1 } })
    expect(f.error.message).toMatch(MARKERS)
    expect((await ctx(a.dir, ['status', '--check'])).exitCode).toBe(4)
    // The daemon, which waits for git, says so, and names the file with markers.
    await waitLog(da, /git is in the middle of a merge \(MERGE_HEAD\): context files are left as they are — nothing taken in, nothing written, peers' changes wait — until it is committed or aborted \(`git merge --abort`\)/)
    await waitLog(da, new RegExp(`\\.rhema/todos\\.yaml:${line}:1: ${MARKERS.source}`))
    await stopWatch(da)
  })
})
