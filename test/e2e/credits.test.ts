/**
 * Who history and blame credit for a change a peer only carried (issues 15 and 16), through the built CLI
 * with daemons running: a teammate's commit brought by `git pull` is the teammate's (author name and time
 * from git), on the clone that pulled and on the peer it synced to; a value kept by `resolve --take N` is its
 * writer's, at the time they wrote it, with the resolution noted (kept by the resolver).
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, edit, fileState, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitFor, waitSame, type Daemon, type Peer } from './helpers.js'
import { cloneAs, gitIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')
type Entry = { via: string; authors: Array<{ name: string }>; fields: Array<{ path: string }>; authoredAt?: string; keptBy?: { name: string } }
type Line = { path: string; authors: Array<{ name: string }>; time: string | null; keptBy?: { name: string } }

/** The field's blame line once its history is written (the recorder writes just after the turn). */
async function blameOf(p: Peer, field: string, ok: (l: Line) => boolean): Promise<Line> {
  let line: Line | undefined
  await waitFor(async () => {
    line = (await ctxJson(p.dir, ['blame', TODOS])).fields.find((l: Line) => l.path === field)
    return !!line && ok(line)
  }, 15_000, `${p.name}'s blame of ${field}`, () => JSON.stringify(line))
  return line!
}

describe('e2e: credits for carried changes', { timeout: 240_000 }, () => {
  it("a teammate's commit brought by git pull is credited to the teammate (git author and time), on the puller and its peer", async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      const c = await cloneAs(remote, 'carl')
      await fsp.appendFile(path.join(c, TODOS), '  - id: c1\n    title: "From carl"\n    status: open\n')
      const when = '2026-11-02T10:00:00.000Z'
      await gitIn(c, ['commit', '-qam', 'carl: c1'], { env: { GIT_AUTHOR_DATE: when } })
      await gitIn(c, ['push', '-q', 'origin', 'main'])
      const p = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitSame([a, b], TODOS, (t) => t.includes('- id: c1'))
      for (const peer of [b, a]) {
        const line = await blameOf(peer, 'todos[id=c1].title', (l) => l.authors.length > 0)
        expect(line.authors.map((x) => x.name), `${peer.name}: ${JSON.stringify(line)}`).toEqual(['carl'])
        expect(line.time, peer.name).toBe(when)
        const { changes } = await ctxJson(peer.dir, ['history', TODOS])
        const e = (changes as Entry[]).find((x) => x.fields.some((f) => f.path.startsWith('todos[id=c1]')))
        expect(e, JSON.stringify(changes, null, 1)).toMatchObject({ via: 'git', authors: [{ name: 'carl' }], authoredAt: when })
      }
      expect((await ctx(b.dir, ['history', TODOS])).stdout).toMatch(/ carl {2}\.rhema\/todos\.yaml {2}\(from git, committed /)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it("a pull over an uncommitted edit (autostash), then a merge: carl's values are carl's, bob's edit bob's, on both peers", async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      const c = await cloneAs(remote, 'carl')
      const carl = async (from: string, to: string, msg: string) => {
        const f = path.join(c, TODOS)
        await fsp.writeFile(f, (await fsp.readFile(f, 'utf8')).replace(from, to))
        await gitIn(c, ['commit', '-qam', msg])
        await gitIn(c, ['push', '-q', 'origin', 'main'])
      }
      // bob's live edit, not committed: git's autostash puts it aside and merges it back over carl's commit.
      await edit(b, 'title: "Write the parser"', 'title: "Write the parser (bob)"')
      await waitSame([a, b], TODOS, (t) => t.includes('(bob)'))
      await carl('title: "Ship it"', 'title: "Ship it by carl"', 'carl: t3')
      const ff = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
      expect(ff.exitCode, ff.stdout + ff.stderr).toBe(0)
      await waitSame([a, b], TODOS, (t) => t.includes('Ship it by carl') && t.includes('(bob)'))
      for (const peer of [b, a]) {
        expect((await blameOf(peer, 'todos[id=t3].title', (l) => l.authors.length > 0)).authors.map((x) => x.name), peer.name).toEqual(['carl'])
        expect((await blameOf(peer, 'todos[id=t1].title', (l) => l.authors.length > 0)).authors.map((x) => x.name), peer.name).toEqual(['bob'])
      }
      // A merge: bob commits his edit, carl pushes another change; the merge commit is bob's, its values carl's.
      await gitIn(b.dir, ['commit', '-qam', 'bob: t1'])
      await carl('title: "Fix the renderer"', 'title: "Fix the renderer by carl"', 'carl: t2')
      const m = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull', '--no-edit'], { reject: false })
      expect(m.exitCode, m.stdout + m.stderr).toBe(0)
      expect((await gitIn(b.dir, ['rev-list', '--parents', '-1', 'HEAD'])).stdout.trim().split(' ')).toHaveLength(3)
      await waitSame([a, b], TODOS, (t) => t.includes('Fix the renderer by carl'))
      for (const peer of [b, a]) {
        expect((await blameOf(peer, 'todos[id=t2].title', (l) => l.authors.length > 0)).authors.map((x) => x.name), peer.name).toEqual(['carl'])
        const { changes } = await ctxJson(peer.dir, ['history', TODOS])
        expect((changes as Entry[]).filter((e) => e.via === 'git' && e.authors.some((x) => x.name === 'bob')), peer.name).toEqual([])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  // One pull, two teammates' commits (issue 16): made one version, every field it changed was blamed on both.
  // ann is live for the first pull and gets bob's updates as they come; she is stopped for the second and
  // catches up on it in one exchange (one version naming both, read field by field from the CRDT).
  it("a pull of carl's and dan's commits: each field is its writer's alone, on the puller, a live peer and one that catches up", async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    let daNow = da
    try {
      const c = await cloneAs(remote, 'carl')
      const commit = async (who: string, from: string, to: string) => {
        const f = path.join(c, TODOS)
        await fsp.writeFile(f, (await fsp.readFile(f, 'utf8')).replace(from, to))
        await gitIn(c, ['-c', `user.name=${who}`, '-c', `user.email=${who}@example.invalid`, 'commit', '-qam', `${who}: ${to}`])
      }
      const pull = async () => {
        await gitIn(c, ['push', '-q', 'origin', 'main'])
        const p = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      }
      const expectBlame = async (peer: Peer, want: Record<string, string>) => {
        for (const [field, name] of Object.entries(want)) {
          const line = await blameOf(peer, field, (l) => l.authors.length > 0)
          expect(line.authors.map((x) => x.name), `${peer.name} ${field}: ${JSON.stringify(line)}`).toEqual([name])
        }
      }
      await commit('carl', 'title: "Write the parser"', 'title: "Write the parser by carl"')
      await commit('dan', 'title: "Fix the renderer"', 'title: "Fix the renderer by dan"')
      await pull()
      await waitSame([a, b], TODOS, (t) => t.includes('renderer by dan'))
      const first = { 'todos[id=t1].title': 'carl', 'todos[id=t2].title': 'dan' }
      for (const peer of [b, a]) await expectBlame(peer, first)
      // ann's log names both for the writes that showed their commits (one write, or one per commit).
      const named = () => da.log().split('\n').filter((l) => /updated \.rhema\/todos\.yaml \(by /.test(l)).join('\n')
      await waitFor(() => /carl/.test(named()) && /dan/.test(named()), 15_000, "ann's log to name carl and dan", named)
      await stopWatch(daNow)
      await commit('dan', 'title: "Write the parser by carl"', 'title: "Write the parser, dan too"')
      await commit('carl', 'title: "Fix the renderer by dan"', 'title: "Fix the renderer, carl too"')
      await pull()
      daNow = await startWatch(a)
      await waitSame([a, b], TODOS, (t) => t.includes('renderer, carl too'))
      const second = { 'todos[id=t1].title': 'dan', 'todos[id=t2].title': 'carl' }
      for (const peer of [b, a]) await expectBlame(peer, second)
      // ann's history lists the commits she caught up on one by one, as bob's does (one change naming both, before).
      const commits = async (peer: Peer) => JSON.stringify((await ctxJson(peer.dir, ['history', TODOS])).changes.filter((x: any) => x.via === 'git').slice(0, 2).map((x: any) => [x.authors.map((n: any) => n.name), x.fields.map((f: any) => f.path)]))
      const want = JSON.stringify([[['carl'], ['todos[id=t2].title']], [['dan'], ['todos[id=t1].title']]])
      let seen = ''
      for (const peer of [b, a]) await waitFor(async () => (seen = await commits(peer)) === want, 15_000, `${peer.name}'s history of the second pull`, () => seen)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([daNow, db])}`)
    }
  })

  it('resolve --take N: blame names the chosen value\'s writer and time, kept by the resolver; history says it', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    await edit(a, 'title: "Second task"', 'title: "Second task, early"')
    const d = await startWatch(a)
    await waitFor(async () => (await fileState(a)).state === 'pending', 10_000, 'a: its edit taken in')
    await new Promise((r) => setTimeout(r, 1100)) // values are timed in seconds: the two writes a second apart
    await edit(b, 'title: "Second task"', 'title: "Second task, late"')
    expect((await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    await waitSame([a, b], TODOS, (t) => t.includes('Second task, late'))
    const [conf] = (await ctxJson(b.dir, ['resolve', '--list'])).conflicts
    const i = conf.values.findIndex((v: { value: string }) => v.value === 'Second task, early')
    const early = conf.values[i]
    expect((await ctx(b.dir, ['resolve', conf.id, '--take', String(i + 1)])).exitCode).toBe(0)
    await waitFor(() => readFile(b)!.includes('Second task, early'), 10_000, 'b: the choice in its file')
    const line = await blameOf(b, 'todos[id=t2].title', (l) => l.keptBy !== undefined)
    expect(line).toMatchObject({ authors: [{ name: 'a' }], time: early.at, keptBy: { name: 'b' } })
    expect((await ctx(b.dir, ['blame', TODOS])).stdout).toMatch(/todos\[id=t2\]\.title\s+"Second task, early"\s+a \(kept by b\)/)
    const { changes } = await ctxJson(b.dir, ['history', TODOS])
    expect(changes[0], JSON.stringify(changes, null, 1)).toMatchObject({ via: 'resolve', authors: [{ name: 'a' }], keptBy: { name: 'b' } })
    expect((await ctx(b.dir, ['history', TODOS, '-n', '1'])).stdout).toMatch(/ a {2}\.rhema\/todos\.yaml {2}\(conflict resolved: kept by b\)/)
    // The resolution reaches a: its blame says the same (the credit travels with the resolution record).
    expect((await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    const there = await blameOf(a, 'todos[id=t2].title', (l) => l.keptBy !== undefined)
    expect(there).toMatchObject({ authors: [{ name: 'a' }], time: early.at, keptBy: { name: 'b' } })
    // diff names the kept value's writer too, the same on both (it said `b` on one peer, `a` on the other).
    for (const p of [a, b]) {
      const c = (await ctxJson(p.dir, ['diff', '--json'])).files[0].changes.find((x: { path: string }) => x.path === 'todos[id=t2].title')
      expect(c, p.name).toMatchObject({ authors: [{ name: 'a' }], keptBy: { name: 'b' } })
    }
    await stopWatch(d)
  })
})
