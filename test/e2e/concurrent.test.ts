/**
 * Concurrent edits made while peers are apart: different todos all survive; the same field ends with one
 * winner on both sides, recorded as the same conflict everywhere, and `resolve` undoes it on every peer.
 * And two clones of one commit, initialised separately, meet without doubling anything.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  clone, countId, ctx, ctxJson, edit, expectOk, explained, fileState, freePort, HISTORY_TODOS, killAll, lastLine, makeRepo, readFile,
  removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitFor, waitLog, waitSame, writeFile, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const titleOf = (text: string, id: string) => new RegExp(`- id: ${id}\\n    title: "([^"]*)"`).exec(text)?.[1]
const statusOf = (text: string, id: string) => new RegExp(`- id: ${id}\\n    title: "[^"]*"[^\\n]*\\n    status: (\\S+)`).exec(text)?.[1]

describe('e2e: concurrent edits', { timeout: 90_000 }, () => {
  it('different todos edited on disconnected peers: both survive, identical files, no conflict', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    // No daemon runs: the peers are apart. Each edits a different todo, and each adds one.
    await edit(a, 'title: "First task"', 'title: "First task (A)"')
    await edit(a, '  - id: t3', '  - id: a-new\n    title: "Added on A"\n    status: open\n  - id: t3')
    await edit(b, '    title: "Third task"\n    status: open', '    title: "Third task"\n    status: done')
    const bText = readFile(b)! + '  - id: b-new\n    title: "Added on B"\n    status: open\n'
    await writeFile(b, TODOS, bText)

    // Now they meet.
    const da = await startWatch(a)
    const db = await startWatch(b)
    const text = await explained(waitSame([a, b], TODOS, (t) => t.includes('b-new') && t.includes('a-new') && t.includes('First task (A)') && statusOf(t, 't3') === 'done'), [a, b], [da, db])
    expect(titleOf(text, 't1')).toBe('First task (A)')
    expect(statusOf(text, 't3')).toBe('done')
    for (const id of ['t1', 't2', 't3', 'a-new', 'b-new']) expect(countId(text, id), id).toBe(1)
    expect(text).toContain('# Team todos — comments must survive sync')
    expect(text).toContain('    title: "First task (A)"   # inline comment')
    for (const p of [a, b]) expect((await ctxJson(p.dir, ['resolve', '--list'])).conflicts).toEqual([])
    expect((await ctx(a.dir, ['status', '--check'])).exitCode).toBe(0)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })

  it('the same field edited on both sides: one winner everywhere, the same conflict listed, resolve clears it', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    await edit(a, 'title: "Second task"', 'title: "Second task, A\'s way"')
    await edit(b, 'title: "Second task"', 'title: "Second task, B\'s way"')
    // A runs a daemon; B meets it with a one-shot sync.
    const da = await startWatch(a)
    const s = await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '20'])
    expect(s.exitCode, s.stderr).toBe(0)
    const text = await waitSame([a, b])
    const winner = titleOf(text, 't2')
    expect(["Second task, A's way", "Second task, B's way"]).toContain(winner)

    const [la, lb] = await Promise.all([ctxJson(a.dir, ['resolve', '--list']), ctxJson(b.dir, ['resolve', '--list'])])
    expect(la).toEqual(lb)
    expect(la.conflicts).toHaveLength(1)
    const c = la.conflicts[0]
    expect(c).toMatchObject({ id: expect.any(String), file: TODOS, path: expect.anything(), display: expect.any(String), winner: expect.any(Number) })
    expect(c.values).toHaveLength(2)
    for (const v of c.values) {
      expect(v).toMatchObject({ author: { id: expect.any(String), name: expect.any(String), kind: 'human' }, at: expect.any(String) })
      expect(v).toHaveProperty('value')
    }
    expect(c.values.map((v: any) => v.author.name).sort()).toEqual(['a', 'b'])
    expect(c.values.map((v: any) => v.value).sort()).toEqual(["Second task, A's way", "Second task, B's way"])
    expect(c.values[c.winner - 1].value).toBe(winner)

    for (const p of [a, b]) {
      const chk = await ctx(p.dir, ['status', '--check'])
      expect(chk.exitCode, p.name).toBe(4)
      const st = await ctxJson(p.dir, ['status', '--check'], 4)
      expect(st.conflicts).toBe(1)
      expect(st.files.find((f: any) => f.path === TODOS).state).toBe('conflicted')
    }

    // B keeps the loser; the choice reaches A with the next sync.
    const loser = c.winner === 1 ? 2 : 1
    const r = await ctx(b.dir, ['resolve', c.id, '--take', String(loser)])
    expect(r.exitCode, r.stderr).toBe(0)
    expect((await ctx(b.dir, ['sync', '--peer', a.url])).exitCode).toBe(0)
    const after = await explained(waitSame([a, b], TODOS, (t) => titleOf(t, 't2') === c.values[loser - 1].value), [a, b], [da])
    expect(after).toBe(text.replace(`title: "${winner}"`, `title: "${c.values[loser - 1].value}"`))
    for (const p of [a, b]) {
      expect((await ctxJson(p.dir, ['resolve', '--list'])).conflicts, p.name).toEqual([])
      expect((await ctx(p.dir, ['status', '--check'])).exitCode, p.name).toBe(0)
    }

    // A second round, resolved where the daemon runs (`resolve` goes through it) with --take ours.
    await edit(a, 'status: open\n  - id: t3', 'status: doing\n  - id: t3')
    await waitFor(async () => (await fileState(a)).state === 'pending', 10_000, 'a: its edit taken in')
    await edit(b, 'status: open\n  - id: t3', 'status: blocked\n  - id: t3')
    expect((await ctx(b.dir, ['sync', '--peer', a.url])).exitCode).toBe(0)
    await waitSame([a, b])
    const [c2] = (await ctxJson(a.dir, ['resolve', '--list'])).conflicts
    expect(c2.display).toMatch(/t2.*status/)
    // It says which value stayed, as `--take N` does (it said only "resolved …": black-box tester, stop 25).
    const ours = await ctx(a.dir, ['resolve', c2.id, '--take', 'ours'])
    expect(ours.exitCode, ours.stderr).toBe(0)
    expect(ours.stdout).toMatch(new RegExp(`^resolved ${c2.id} \\(.*\\): kept doing \\(a's\\); every peer gets this choice$`))
    await waitFor(() => statusOf(readFile(a)!, 't2') === 'doing', 10_000, 'a: its own value back in its file')
    expect((await ctx(b.dir, ['sync', '--peer', a.url])).exitCode).toBe(0)
    const end = await waitSame([a, b], TODOS, (t) => statusOf(t, 't2') === 'doing')
    expect(titleOf(end, 't2')).toBe(c.values[loser - 1].value)
    for (const p of [a, b]) expect((await ctxJson(p.dir, ['resolve', '--list'])).conflicts, p.name).toEqual([])
    expect(await stopWatch(da)).toBe(0)
  })
})

describe('e2e: two clones initialised separately', { timeout: 90_000 }, () => {
  it('meet with identical files, no doubled todo and no conflict', async () => {
    const origin = await makeRepo()
    const [ad, bd] = await Promise.all([clone(origin, 'a'), clone(origin, 'b')])
    const [pa, pb] = await Promise.all([freePort(), freePort()])
    const a: Peer = { name: 'a', dir: ad, port: pa, url: `ws://127.0.0.1:${pa}` }
    const b: Peer = { name: 'b', dir: bd, port: pb, url: `ws://127.0.0.1:${pb}` }
    // Each clone runs its own init (B has no ctxsync.yaml from A: it joins with the code alone).
    await expectOk(ctx(a.dir, ['init', '--name', 'a', '--port', String(pa), '--discovery', 'none']))
    const code = lastLine((await expectOk(ctx(a.dir, ['invite']))).stdout)
    await expectOk(ctx(b.dir, ['init', '--join', code, '--name', 'b', '--port', String(pb), '--discovery', 'none', '--peer', a.url]))
    const before = Object.fromEntries(['todos', 'rhema', 'knowledge', 'decisions'].map((f) => [f, readFile(a, `.rhema/${f}.yaml`)]))

    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /connected to a/)
    await waitFor(async () => (await ctxJson(b.dir, ['status'])).files.every((f: any) => f.state === 'synced'), 15_000, 'b: every file synced')
    for (const [f, text] of Object.entries(before)) {
      expect(readFile(a, `.rhema/${f}.yaml`), f).toBe(text)
      expect(readFile(b, `.rhema/${f}.yaml`), f).toBe(text)
    }
    expect(readFile(a)).toBe(HISTORY_TODOS)
    for (const p of [a, b]) {
      expect((await ctxJson(p.dir, ['resolve', '--list'])).conflicts, p.name).toEqual([])
    }
    // And they keep syncing afterwards: no item is doubled by an edit after the meeting either.
    const edited = await edit(b, 'priority: "high"', 'priority: "urgent"')
    await waitSame([a, b], TODOS, (t) => t === edited)
    const ids = [...HISTORY_TODOS.matchAll(/^ {2}- id: "([^"]+)"/gm)].map((m) => m[1]!)
    expect(ids.length).toBeGreaterThan(5)
    for (const id of ids) expect(countId(readFile(a)!, id), id).toBe(1)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
