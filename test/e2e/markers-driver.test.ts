/**
 * A teammate's commit that is not valid YAML, pulled over a change here with the merge driver installed: the
 * driver falls back to git's text merge, and the file holds git's markers. The held file's message said
 * "`ctxsync hooks install` sets up the merge driver" — which was installed (issue 17, black-box tester). It
 * now says what happened (a side was not valid YAML, so git merged the text) and how to finish; and once the
 * file parses again and the merge is committed, the daemon says it took the file in (the log said nothing).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, killAll, removeTmpDirs, statusJson, stopWatch, TODOS, waitLog } from './helpers.js'
import { gitIn, hasMarkers, read, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const DRIVER_MARKERS = 'holds git conflict markers (an unfinished merge): the ctxsync merge driver is set up in this clone, but a side of the merge was not valid YAML (or too large to merge as YAML: the driver\'s line in git\'s output says which), so git merged the text — fix the markers: edit the file to keep what each side should, or take one side with `git checkout --ours <file>` or `--theirs <file>`, then `git add` it and finish the merge (`git commit`); ctxsync takes the file in once it parses'
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** ann commits and pushes a title that is not valid YAML; bob, live, edits the same title and commits it. */
async function brokenPushedLiveEditCommitted() {
  const { a, b, da, db } = await twoLivePeers()
  await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: [Fix the renderer')
  await gitIn(a.dir, ['commit', '-qam', 'broken title'])
  await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
  await waitLog(da, /held/)
  await replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer now"')
  await waitLog(db, /todos\.yaml: your edit taken in/)
  await gitIn(b.dir, ['commit', '-qam', 'renderer now'])
  return { b, da, db }
}

describe('e2e: markers left by the merge driver\'s fallback', { timeout: 120_000 }, () => {
  it('say the driver is set up and a side was not valid YAML; the daemon says when the file is taken in again', async () => {
    const { b, da, db } = await brokenPushedLiveEditCommitted()
    const pull = await gitIn(b.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
    expect(pull.exitCode, pull.stdout + pull.stderr).not.toBe(0)
    expect(pull.stdout + pull.stderr).toMatch(/their version is not valid YAML/)
    const text = await read(b.dir, TODOS)
    expect(hasMarkers(text)).toBe(true)
    const line = text.split('\n').findIndex((l) => l.startsWith('<<<<<<< ')) + 1

    const f = (await statusJson(b)).files.find((x: { path: string }) => x.path === TODOS)
    expect(f).toMatchObject({ state: 'held', error: { line, col: 1, message: DRIVER_MARKERS } })
    const st = await ctx(b.dir, ['status'])
    expect(st.stdout).toContain(`held    .rhema/todos.yaml:${line}:1  ${DRIVER_MARKERS}`)
    expect(st.stdout).not.toContain('`ctxsync hooks install` sets up the merge driver')
    await waitLog(db, new RegExp(esc(`.rhema/todos.yaml:${line}:1: ${DRIVER_MARKERS}`)))

    await gitIn(b.dir, ['checkout', '--ours', TODOS])
    await gitIn(b.dir, ['add', TODOS])
    await gitIn(b.dir, ['commit', '-q', '--no-edit'])
    await waitLog(db, /\.rhema\/todos\.yaml: parses again \(the merge is over\): taken in/)
    expect((await statusJson(b)).files.find((x: { path: string }) => x.path === TODOS).state).not.toBe('held')
    await stopWatch(db)
    await stopWatch(da)
  })

  it('taking the side that is not valid YAML: held once the merge is committed, and said taken in only when fixed', async () => {
    const { b, da, db } = await brokenPushedLiveEditCommitted()
    expect((await gitIn(b.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })).exitCode).not.toBe(0)
    await waitLog(db, new RegExp(esc(DRIVER_MARKERS)))

    await gitIn(b.dir, ['checkout', '--theirs', TODOS])
    await gitIn(b.dir, ['add', TODOS])
    await gitIn(b.dir, ['commit', '-q', '--no-edit'])
    await waitLog(db, /\.rhema\/todos\.yaml:\d+:\d+: .* — held: nothing from it is sent until it parses again/)
    expect(db.log()).not.toMatch(/parses again \(the merge is over\)/)
    await replaceIn(b.dir, TODOS, 'title: [Fix the renderer', 'title: "Fix the renderer, fixed"')
    await waitLog(db, /\.rhema\/todos\.yaml: parses again, changes merged/)
    await stopWatch(db)
    await stopWatch(da)
  })
})
