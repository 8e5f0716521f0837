/**
 * References in `show`, `diff` and `blame` through the built CLI (issue 16 tester): a change id of another
 * file names a moment (`show ID PATH`, `diff ID ID` across files); a path that is not a tracked file is a
 * usage error (exit 2), not an empty answer; a file that did not exist at REF says so (exit 1), as the
 * README's exit-code table says.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, edit, expectOk, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitFor, writeFile, type Peer, waitChange } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const KNOW = '.rhema/knowledge.yaml'
const KNOWLEDGE = 'entries:\n  - id: k1\n    text: "first"\n'

const touches = (c: any, p: string) => c.fields.some((f: any) => f.path === p)

describe('e2e: history refs', { timeout: 120_000 }, () => {
  it('a change id is a moment for every file; untracked paths and absent files say so', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS, [KNOW]: KNOWLEDGE, 'README.md': '# hello\n' } })
    const [a] = peers as [Peer]
    const da = await startWatch(a)
    const afterT1 = await edit(a, '"First task"', '"First task, T1"')
    const t1 = await waitChange(a, (c) => touches(c, 'todos[id=t1].title'), 'T1')
    await edit(a, '"first"', '"first, K1"', KNOW)
    const k1 = await waitChange(a, (c) => touches(c, 'entries[id=k1].text'), 'K1')
    await edit(a, '"Second task"', '"Second task, T2"')
    const t2 = await waitChange(a, (c) => touches(c, 'todos[id=t2].title'), 'T2')

    // show ID PATH: the file as it was at that change, whichever file the change was of
    expect((await expectOk(ctx(a.dir, ['show', k1.id, TODOS]))).stdout).toBe(afterT1.replace(/\n$/, ''))
    expect((await expectOk(ctx(a.dir, ['show', t1.id, TODOS]))).stdout).toBe(afterT1.replace(/\n$/, ''))
    // diff ID ID: every file between the two moments
    const d = await ctxJson(a.dir, ['diff', t1.id, t2.id, '--json'])
    const byFile = Object.fromEntries(d.files.map((f: any) => [f.file, f.changes.map((c: any) => c.path)]))
    expect(byFile).toEqual({ [TODOS]: ['todos[id=t2].title'], [KNOW]: ['entries[id=k1].text'] })
    expect((await ctxJson(a.dir, ['diff', t1.id, t2.id, TODOS, '--json'])).files[0].changes.map((c: any) => c.path)).toEqual(['todos[id=t2].title'])

    // Not a tracked file: exit 2, said, whether it exists (README.md) or not
    for (const args of [['show', t1.id, 'README.md'], ['diff', 'README.md'], ['blame', 'README.md'], ['blame', 'nothing/here.yaml'], ['history', 'README.md']]) {
      const r = await ctx(a.dir, args)
      expect(r.exitCode, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toContain('is not a tracked file')
    }

    // A tracked file that did not exist at REF: exit 1, said (a commit before it, a change before it)
    await writeFile(a, '.rhema/new.yaml', 'items:\n  - id: n1\n')
    await waitChange(a, (c) => c.file === '.rhema/new.yaml', 'the new file')
    for (const ref of ['HEAD', t1.id]) {
      const r = await ctx(a.dir, ['show', ref, '.rhema/new.yaml'])
      expect(r.exitCode, ref).toBe(1)
      expect(r.stderr, ref).toContain(`.rhema/new.yaml did not exist at ${ref}`)
    }
    // A time before the file's history here (the help's `diff 1h` in a space's first hour): says where its
    // history starts and that a commit reaches further back (black-box tester, stop 25).
    const early = await ctx(a.dir, ['diff', '1h', TODOS])
    expect(early.exitCode).toBe(1)
    expect(early.stderr).toMatch(/no version of \.rhema\/todos\.yaml kept from .* or before: its history here starts at .* \(change [0-9a-f]{8}\); a git commit \(e\.g\. HEAD\) reaches further back/)
    // restore to a moment with no version of the file kept: refused, the file left as it is
    const r = await ctx(a.dir, ['restore', '.rhema/new.yaml', '--to', t1.id])
    expect(r.exitCode).toBe(1)
    expect(readFile(a, '.rhema/new.yaml')).toBe('items:\n  - id: n1\n')
    expect(fs.existsSync(path.join(a.dir, '.rhema/new.yaml'))).toBe(true)
    expect(await stopWatch(da)).toBe(0)
  })
})
