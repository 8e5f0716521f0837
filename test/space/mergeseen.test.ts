/**
 * mergeseen.ts: which merge-driver conflicts the live context already ordered (every value held at that
 * place before the merge), and which records a checkout or switch -m made (black-box tester, stop 25).
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { Repo } from '../../src/git/repo.js'
import type { MergeEntry } from '../../src/crdt/merge/place.js'
import { madeByCheckout, seenInOrder } from '../../src/space/mergeseen.js'

const dirs: string[] = []
afterAll(async () => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

const entry = (p: Array<string | number>, descs: string[]): MergeEntry =>
  ({ id: 'x', path: p, display: '', winner: 0, conflict: null as never, values: descs.map((desc) => ({ desc, at: 0, author: { id: 'a', name: 'a', kind: 'human' } })) })

describe('mergeseen', () => {
  it('a conflict is no race only when every value was held at its place (scalars compared as parsed)', () => {
    const held = new Map([[JSON.stringify(['todos', 't5', 'assignee']), new Set(['"mate"', '"bob"'])]])
    expect(seenInOrder(held, entry(['todos', 't5', 'assignee'], ['=mate', '="bob"']))).toBe(true)
    expect(seenInOrder(held, entry(['todos', 't5', 'assignee'], ['=mate', '=carl']))).toBe(false)
    expect(seenInOrder(held, entry(['todos', 't6', 'assignee'], ['=mate', '=bob']))).toBe(false)
    // What cannot be compared (a block's header, a collection) keeps the record.
    expect(seenInOrder(held, entry(['todos', 't5', 'assignee'], ['=mate', '|2:|']))).toBe(false)
    expect(seenInOrder(null, entry(['todos', 't5', 'assignee'], ['=mate', '=bob']))).toBe(false)
  })

  it('a record made while git checkout/switch -m ran is the checkout\'s; one made by a merge is not', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-mergeseen-'))
    dirs.push(dir)
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: dir })
    await git('init', '-q', '-b', 'main')
    await fs.writeFile(path.join(dir, 'f'), 'a\n')
    await git('add', 'f')
    await git('commit', '-qm', 'one')
    const repo = (await Repo.open(dir))!
    const before = Date.now()
    await git('switch', '-q', '-c', 'other')
    expect(await madeByCheckout(repo, before)).toBe(true)
    await fs.writeFile(path.join(dir, 'f'), 'b\n')
    await git('commit', '-qam', 'two')
    await git('switch', '-q', 'main')
    const merging = Date.now() + 1000 // a later second: the merge's own entry is the one found
    await new Promise((r) => setTimeout(r, 1100)) // reflog times are whole seconds
    await git('merge', '-q', 'other')
    expect(await madeByCheckout(repo, merging)).toBe(false)
    expect(await madeByCheckout(null, before)).toBe(false)
  })
})
