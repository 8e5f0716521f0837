/**
 * A plain `git rebase BRANCH` (not `pull --rebase`) beside the live context (issue 15 item 1), with `hooks
 * install` done and daemons running on two clones: a teammate's branch changed the context, bob has a commit
 * of his own on main and the live context on top, uncommitted; he rebases his branch onto the teammate's.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, killAll, readFile, removeTmpDirs, stopWatch, textDiff, TODOS, waitFileEquals, waitFor, waitSame, type Daemon } from './helpers.js'
import { cloneAs, countLine, gitIn, hasMarkers, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

describe('e2e: git rebase BRANCH beside the live context', { timeout: 240_000 }, () => {
  it('git rebase onto a teammate\'s branch that changed context: exit 0, no markers, live and branch context merged, peers identical', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      // carl (plain git) changes t1's title and adds c1 on a branch of his own, and pushes it.
      const c = await cloneAs(remote, 'carl')
      await gitIn(c, ['switch', '-q', '-c', 'feature'])
      await replaceIn(c, TODOS, 'title: "Write the parser"', 'title: "Write the parser (carl)"')
      await fsp.appendFile(path.join(c, TODOS), '  - id: c1\n    title: "From carl"\n    status: open\n')
      await gitIn(c, ['commit', '-qam', 'carl: parser title, c1'])
      await gitIn(c, ['push', '-q', 'origin', 'feature'])
      // bob commits a change to the same file (t2 done) on main; then ann's live edit reaches him, uncommitted.
      await replaceIn(b.dir, TODOS, 'status: open\n    tags: [render]', 'status: done\n    tags: [render]')
      await waitFileEquals(a, readFile(b)!)
      await gitIn(b.dir, ['commit', '-qam', 'bob: renderer done'])
      await replaceIn(a.dir, TODOS, 'title: "Ship it"', 'title: "Ship it live"')
      await waitFileEquals(b, readFile(a)!)
      await gitIn(b.dir, ['fetch', '-q'])
      const r = await gitIn(b.dir, ['rebase', 'origin/feature'], { reject: false })
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      const want = ['title: "Write the parser (carl)"', '- id: c1', 'title: "Ship it live"']
      const text = await waitSame([a, b], TODOS, (t) => want.every((l) => t.includes(l)))
      expect(hasMarkers(text), text).toBe(false)
      for (const l of want) expect(countLine(text, l), `${l} in\n${text}`).toBe(1)
      expect(text).toMatch(/title: "Fix the renderer"\n {4}status: done/)
      // bob's commit now sits on carl's; the live edit is still uncommitted and nothing is left aside.
      expect((await gitIn(b.dir, ['log', '--format=%s', '-2'])).stdout.trim().split('\n')).toEqual(['bob: renderer done', 'carl: parser title, c1'])
      expect((await gitIn(b.dir, ['stash', 'list'])).stdout).toBe('')
      expect((await gitIn(b.dir, ['status', '--porcelain', '--', TODOS])).stdout).toMatch(/^ M /)
      expect(await gitIn(b.dir, ['diff', '--', TODOS]).then((d) => d.stdout)).toMatch(/^\+ {4}title: "Ship it live"$/m)

      // ann, whose main has none of it in git (she holds it all live), rebases onto the branch too: git
      // fast-forwards her and applies the autostash over carl's commit; c1 is not doubled.
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer (ann)"')
      const live = await waitSame([a, b], TODOS, (t) => t.includes('renderer (ann)'))
      await gitIn(a.dir, ['fetch', '-q'])
      const ra = await gitIn(a.dir, ['rebase', 'origin/feature'], { reject: false })
      expect(ra.exitCode, ra.stdout + ra.stderr).toBe(0)
      expect((await gitIn(a.dir, ['log', '--format=%s', '-1'])).stdout.trim()).toBe('carl: parser title, c1')
      const after = await waitSame([a, b], TODOS)
      expect(after, textDiff(live, after)).toBe(live)
      expect((await gitIn(a.dir, ['stash', 'list'])).stdout).toBe('')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('git rebase onto a teammate\'s branch that changed the same value: the later commit\'s value stays, and the conflict the driver names is listed on both peers', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      const c = await cloneAs(remote, 'carl')
      await gitIn(c, ['switch', '-q', '-c', 'feature'])
      await replaceIn(c, TODOS, 'title: "Ship it"', 'title: "Ship it (carl)"')
      await gitIn(c, ['commit', '-qam', 'carl: ship it'])
      await gitIn(c, ['push', '-q', 'origin', 'feature'])
      // Git's times are seconds: bob's commit is made in a later second than carl's, so it is the later side.
      const carlAt = Number((await gitIn(c, ['log', '-1', '--format=%at'])).stdout.trim())
      await waitFor(async () => Math.floor(Date.now() / 1000) > carlAt, 3000, 'the next second')
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it (bob)"')
      await waitFileEquals(a, readFile(b)!)
      await gitIn(b.dir, ['commit', '-qam', 'bob: ship it'])
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer live"')
      await waitFileEquals(b, readFile(a)!)
      await gitIn(b.dir, ['fetch', '-q'])
      const r = await gitIn(b.dir, ['rebase', 'origin/feature'], { reject: false })
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      expect(r.stdout + r.stderr).toMatch(/1 value\(s\) changed on both sides — kept one, see `ctxsync resolve --list`/)
      expect((await gitIn(b.dir, ['log', '--format=%s', '-2'])).stdout.trim().split('\n')).toEqual(['bob: ship it', 'carl: ship it'])
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 20_000, 'sync on bob')
      const text = await waitSame([a, b], TODOS, (t) => t.includes('Fix the renderer live'))
      expect(hasMarkers(text), text).toBe(false)
      expect(countLine(text, 'title: "Ship it (bob)"'), text).toBe(1)
      for (const p of [b, a]) {
        await waitFor(async () => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.length > 0, 20_000, `the conflict listed on ${p.name}`)
        expect((await ctxJson(p.dir, ['resolve', '--list'])).conflicts.map((x: { display: string }) => x.display), p.name).toEqual(['todos[id=t3].title'])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  /**
   * carl (plain git) and bob commit the same value; bob's edit is made live after carl's commit. `bobAuthored`:
   * bob's commit's author time relative to carl's (git's whole seconds). `pull`: carl pushes to main and bob
   * runs git pull --rebase, instead of git rebase onto carl's branch.
   */
  async function sameValue(bobAuthored: 0 | -1, how: 'rebase' | 'pull' = 'rebase') {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      const c = await cloneAs(remote, 'carl')
      if (how === 'rebase') await gitIn(c, ['switch', '-q', '-c', 'feature'])
      await replaceIn(c, TODOS, 'title: "Ship it"', 'title: "Ship it (carl)"')
      const t = Math.floor(Date.now() / 1000)
      const at = (s: number) => ({ GIT_AUTHOR_DATE: `@${s} +0000`, GIT_COMMITTER_DATE: `@${t} +0000` })
      await gitIn(c, ['commit', '-qam', 'carl: ship it'], { env: at(t) })
      await gitIn(c, ['push', '-q', 'origin', how === 'rebase' ? 'feature' : 'main'])
      // bob's edit is made after carl's commit, live: the live context knows when to the millisecond.
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it (bob)"')
      await waitFileEquals(a, readFile(b)!)
      await gitIn(b.dir, ['commit', '-qam', 'bob: ship it'], { env: at(t + bobAuthored) })
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer live"')
      await waitFileEquals(b, readFile(a)!)
      await gitIn(b.dir, ['fetch', '-q'])
      const r = await gitIn(b.dir, how === 'rebase' ? ['rebase', 'origin/feature'] : ['pull', '--rebase'], { reject: false })
      const said = r.stdout + r.stderr
      expect(r.exitCode, said).toBe(0)
      expect(said).toMatch(/1 value\(s\) changed on both sides — kept one, see `ctxsync resolve --list`/)
      // The same second: the tie goes by bob's sync point (milliseconds), his value is kept and his pick stays.
      // An earlier second: carl's commit is the later one, git drops bob's pick as empty, and the live
      // context keeps bob's live value over carl's (written later than carl's commit's second).
      const log = (await gitIn(b.dir, ['log', '--format=%s', '-2'])).stdout.trim().split('\n')
      if (bobAuthored === 0) expect(log, said).toEqual(['bob: ship it', 'carl: ship it'])
      else expect(said).toMatch(/dropping .* bob: ship it -- patch contents already upstream/)
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 20_000, 'sync on bob')
      const text = await waitSame([a, b], TODOS, (x) => x.includes('Fix the renderer live'))
      expect(hasMarkers(text), text).toBe(false)
      expect(countLine(text, 'title: "Ship it (bob)"'), text).toBe(1)
      // Either way nothing is lost without a word: the conflict is listed on both peers with both values.
      for (const p of [b, a]) {
        await waitFor(async () => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.length > 0, 20_000, `the conflict listed on ${p.name}`)
        const listed = (await ctxJson(p.dir, ['resolve', '--list'])).conflicts as Array<{ display: string; values: unknown }>
        expect(listed.map((x) => x.display), p.name).toEqual(['todos[id=t3].title'])
        const values = JSON.stringify(listed[0]!.values)
        for (const v of ['Ship it (bob)', 'Ship it (carl)']) expect(values, `${p.name}: ${values}`).toContain(v)
      }
      expect(readFile(b)).toBe(text)
      // And resolve undoes it: ann takes carl's value, which reaches bob; nothing is left to resolve.
      const [conf] = (await ctxJson(a.dir, ['resolve', '--list'])).conflicts as Array<{ id: string; values: Array<{ value: string }> }>
      const carls = conf!.values.findIndex((v) => v.value === 'Ship it (carl)') + 1
      expect(carls, JSON.stringify(conf)).toBeGreaterThan(0)
      const res = await ctx(a.dir, ['resolve', conf!.id, '--take', String(carls)])
      expect(res.exitCode, res.stderr).toBe(0)
      const chosen = await waitSame([a, b], TODOS, (x) => x.includes('title: "Ship it (carl)"'))
      expect(chosen).toBe(text.replace('title: "Ship it (bob)"', 'title: "Ship it (carl)"'))
      for (const p of [a, b]) await waitFor(async () => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.length === 0, 20_000, `nothing left to resolve on ${p.name}`)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  }

  it('git rebase onto a teammate\'s commit of the same value made in the same second: the later edit (bob\'s) stays, his commit is kept, the conflict is listed on both peers with both values', () => sameValue(0))

  it('git pull --rebase of a teammate\'s commit of the same value made in the same second: bob\'s later edit and commit stay, the conflict is listed on both peers', () => sameValue(0, 'pull'))

  it('git rebase where bob\'s commit is dated before the teammate\'s but his live edit came after: git drops his pick, his live value stays, the conflict is listed on both peers with both values', () => sameValue(-1))
})
