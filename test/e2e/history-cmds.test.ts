/**
 * The history commands' paths no other test takes (issue 16), through the built CLI with two live peers:
 * `show <commit>` and `show --json`, `diff` with no FROM/TO (the last sync point to now) naming who changed
 * each field, `history --since` (the clock moved through CTXSYNC_TEST_CLOCK), `undo --file PATH` (the
 * latest change to that file, not the latest change), and `restore` of several paths with `--json`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  ctx, ctxJson, edit, expectOk, git, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS, tmpDir,
  waitChange, waitFileEquals, waitLog, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const KNOW = '.rhema/knowledge.yaml'
const KNOWLEDGE = 'entries:\n  - id: k1\n    text: "first"\n'
const touches = (c: any, p: string) => c.fields.some((f: any) => f.path === p)
const both = async (peers: Peer[], rel: string, text: string) => {
  for (const p of peers) await waitFileEquals(p, text, rel)
}

describe('e2e: history commands', { timeout: 180_000 }, () => {
  it('show <commit> and --json, diff with no points, history --since, undo --file, restore of several files', async () => {
    const clock = path.join(await tmpDir('ctxsync-clock-'), 'offset')
    fs.writeFileSync(clock, '0')
    process.env.CTXSYNC_TEST_CLOCK = clock
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS, [KNOW]: KNOWLEDGE } })
    const [a, b] = peers as [Peer, Peer]
    const head = (await git(a.dir, ['rev-parse', 'HEAD'])).trim()
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(da, /connected to b/)
    await waitLog(db, /connected to a/)

    // show <commit>: the file as that commit has it, plain and as JSON.
    expect((await expectOk(ctx(a.dir, ['show', head, TODOS]))).stdout).toBe(SMALL_TODOS.replace(/\n$/, ''))
    const shown = await ctxJson(a.dir, ['show', 'HEAD', KNOW])
    expect(shown).toMatchObject({ file: KNOW, text: KNOWLEDGE })
    expect(shown.label).toBe(`${KNOW} at commit ${head.slice(0, 12)}`)

    // b changes a status, a an entry: `diff` (HEAD → now) lists both, each with who changed it.
    const t1 = await edit(b, '    title: "Second task"\n    status: open', '    title: "Second task"\n    status: doing')
    await both([a], TODOS, t1)
    await waitChange(a, (c) => touches(c, 'todos[id=t2].status'), "b's status")
    const k1 = await edit(a, '"first"', '"first, by a"', KNOW)
    await both([b], KNOW, k1)
    const kChange = await waitChange(a, (c) => touches(c, 'entries[id=k1].text'), "a's entry")
    const d = await ctxJson(a.dir, ['diff'])
    const fields = Object.fromEntries(d.files.flatMap((f: any) => f.changes.map((c: any) => [`${f.file} ${c.path}`, c.authors.map((x: any) => x.name)])))
    expect(fields).toEqual({ [`${TODOS} todos[id=t2].status`]: ['b'], [`${KNOW} entries[id=k1].text`]: ['a'] })
    const human = (await expectOk(ctx(a.dir, ['diff']))).stdout
    expect(human).toMatch(/todos\[id=t2\]\.status.*"open".*"doing".*— b$/m)
    expect(human).toMatch(/entries\[id=k1\]\.text.*— a$/m)

    // Two hours later a renames a todo: `history --since 1h` is that change alone, `--since 3h` all three.
    fs.writeFileSync(clock, String(2 * 3_600_000))
    const t3 = await edit(a, '"Third task"', '"Third task, later"')
    await both([b], TODOS, t3)
    const late = await waitChange(a, (c) => touches(c, 'todos[id=t3].title'), "a's later change")
    expect((await ctxJson(a.dir, ['history', '--since', '1h'])).changes.map((c: any) => c.id)).toEqual([late.id])
    const since3h = (await ctxJson(a.dir, ['history', '--since', '3h'])).changes.map((c: any) => c.id)
    expect(since3h).toEqual(expect.arrayContaining([late.id, kChange.id]))
    expect(since3h.length).toBeGreaterThanOrEqual(3)

    // undo --file KNOW: a's latest change to that file (not the todo rename, made after it); the rename stays.
    const u = await ctxJson(a.dir, ['undo', '--file', KNOW])
    expect(u).toMatchObject({ file: KNOW, changed: true, change: kChange.id, author: 'a' })
    await both([a, b], KNOW, KNOWLEDGE)
    expect(readFile(a)).toBe(t3)

    // restore of both files to the commit, as JSON: each file its own result (what it takes back, whose), both
    // files back on both peers; a file already as at the commit is said so.
    const k2 = await edit(b, '"first"', '"first, by b"', KNOW)
    await both([a], KNOW, k2)
    await waitChange(a, (c) => touches(c, 'entries[id=k1].text') && c.authors.some((x: any) => x.name === 'b'), "b's entry")
    const r = await ctxJson(a.dir, ['restore', TODOS, KNOW, '--to', head])
    expect(r.files).toEqual([
      expect.objectContaining({ file: TODOS, changed: true, fields: 2 }),
      expect.objectContaining({ file: KNOW, changed: true, fields: 1, lastSetBy: ['b'] }),
    ])
    expect([...r.files[0].lastSetBy].sort()).toEqual(['a', 'b'])
    await both([a, b], TODOS, SMALL_TODOS)
    await both([a, b], KNOW, KNOWLEDGE)
    const again = await ctxJson(a.dir, ['restore', TODOS, KNOW, '--to', head])
    expect(again.files.map((f: any) => [f.file, f.changed])).toEqual([[TODOS, false], [KNOW, false]])
    // A path that is no tracked file: exit 2, as history and blame say it (it said 'already is as at HEAD').
    for (const args of [['restore', 'ctxsync.yaml', '--to', head], ['undo', '--file', 'ctxsync.yaml']]) {
      const r2 = await ctx(a.dir, args)
      expect(r2.exitCode, r2.stdout + r2.stderr).toBe(2)
      expect(r2.stderr).toContain('is not a tracked file of this space')
    }
  })
})
