/**
 * Plain git beside the live context (issue 15), with `hooks install` done and daemons running on two clones
 * of a bare remote: `git pull` (merge, then `--rebase`) runs over the live context with no flag and leaves no
 * markers; `git checkout -- FILE`, `git restore FILE` and `git checkout HEAD FILE` are the user's revert and
 * reach the other peer; `git stash` then `git stash pop` changes nothing, even when a peer edits meanwhile.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, killAll, statusJson, readFile, removeTmpDirs, stopWatch, textDiff, TODOS, waitFileEquals, waitFor, waitLog, waitSame, type Daemon } from './helpers.js'
import { cloneAs, countLine, gitIn, hasMarkers, read, replaceIn, stateVector, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

/** A teammate without ctxsync commits a new todo and pushes it. */
async function teammate(remote: string, n: number): Promise<string> {
  const c = await cloneAs(remote, `carl${n}`)
  await fsp.appendFile(path.join(c, TODOS), `  - id: c${n}\n    title: "From carl ${n}"\n    status: open\n`)
  await gitIn(c, ['commit', '-qam', `carl ${n}`])
  await gitIn(c, ['push', '-q', 'origin', 'main'])
  return `- id: c${n}`
}

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

describe('e2e: plain git beside the live context', { timeout: 240_000 }, () => {
  it('git pull (merge, then --rebase) over live context: exit 0, no markers, live and pulled merged, peers identical', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      // Round 1: live context on bob (uncommitted everywhere), a teammate's commit comes in; plain `git pull`.
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it now"')
      await waitFileEquals(a, readFile(b)!)
      const c1 = await teammate(remote, 1)
      const p1 = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
      expect(p1.exitCode, p1.stdout + p1.stderr).toBe(0)
      let text = await waitSame([a, b], TODOS, (t) => t.includes(c1) && t.includes('Ship it now'))
      expect(hasMarkers(text), text).toBe(false)
      expect(countLine(text, c1)).toBe(1)

      // Round 2: ann has a commit of her own and live context on top; another teammate commit; `pull --rebase`.
      await gitIn(a.dir, ['commit', '-qam', 'ann: the context as it is'])
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer first"')
      await waitFileEquals(b, readFile(a)!)
      const c2 = await teammate(remote, 2)
      const p2 = await gitIn(a.dir, ['pull', '--rebase'], { reject: false })
      expect(p2.exitCode, p2.stdout + p2.stderr).toBe(0)
      text = await waitSame([a, b], TODOS, (t) => t.includes(c2) && t.includes('Fix the renderer first'))
      expect(hasMarkers(text), text).toBe(false)
      for (const l of [c1, c2, 'title: "Ship it now"', 'title: "Fix the renderer first"']) expect(countLine(text, l), `${l} in\n${text}`).toBe(1)
      expect((await gitIn(a.dir, ['status', '--porcelain'])).stdout).not.toMatch(/^(UU|AA) /m)
      // And a plain `git merge` of what bob now fetches (his HEAD is behind, his live context is not).
      await gitIn(b.dir, ['fetch', '-q'])
      const m = await gitIn(b.dir, ['merge', 'origin/main'], { reject: false })
      expect(m.exitCode, m.stdout + m.stderr).toBe(0)
      expect(await waitSame([a, b], TODOS)).toBe(text)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('a context file a peer added and pushed: git pull (merge, then --rebase) on the clone it reached live works', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      for (const [i, pull] of [['rhema', ['-c', 'pull.rebase=false', 'pull']], ['knowledge', ['pull', '--rebase']]] as const) {
        const rel = `.rhema/${i}.yaml`
        const text = `# ${i}\nname: ${i}\nitems:\n  - one\n`
        await fsp.writeFile(path.join(a.dir, rel), text)
        await waitFileEquals(b, text, rel)
        await gitIn(a.dir, ['add', rel])
        await gitIn(a.dir, ['commit', '-qm', `ann adds ${rel}`])
        await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
        // The second time the live file has moved on past the commit: the pull's add/add goes through the driver.
        const live = i === 'rhema' ? text : `${text}  - two\n`
        if (live !== text) {
          await fsp.writeFile(path.join(a.dir, rel), live)
          await waitFileEquals(b, live, rel)
        }
        const p = await gitIn(b.dir, [...pull], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        const got = await waitSame([a, b], rel)
        expect(got, textDiff(live, got)).toBe(live)
        if (live === text) await waitFor(async () => (await gitIn(b.dir, ['status', '--porcelain', '--', rel])).stdout === '', 10_000, `${rel} clean in bob's clone`)
        expect((await gitIn(b.dir, ['status', '--porcelain', '--', rel])).stdout).not.toMatch(/^(AA|UU| D|D )/m)
        expect((await gitIn(b.dir, ['stash', 'list'])).stdout).toBe('')
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('git pull (merge) fast-forwarding another file over a live edit: the autostash applies cleanly every time', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    const k = '.rhema/knowledge.yaml'
    try {
      const c = await cloneAs(remote, 'carl')
      // A slow post-merge hook (node starting on a loaded machine): git applies the autostash only after it,
      // long past the daemon's quiet period.
      const hook = path.join(b.dir, '.git', 'hooks', 'post-merge')
      await fsp.writeFile(hook, (await fsp.readFile(hook, 'utf8')).replace('\n', '\nsleep 1\n'))
      for (let i = 0; i < 3; i++) {
        await fsp.writeFile(path.join(b.dir, TODOS), (await read(b.dir, TODOS)).replace(/title: "Ship it[^"]*"/, `title: "Ship it ${i}"`))
        await waitFileEquals(a, readFile(b)!)
        await gitIn(c, ['pull', '-q'])
        await fsp.writeFile(path.join(c, k), `facts:\n  - fact ${i}\n`)
        await gitIn(c, ['add', k])
        await gitIn(c, ['commit', '-qm', `carl ${i}`])
        await gitIn(c, ['push', '-q', 'origin', 'main'])
        const p = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        expect(p.stdout + p.stderr).not.toMatch(/resulted in conflicts/)
        expect((await gitIn(b.dir, ['stash', 'list'])).stdout).toBe('')
        const text = await waitSame([a, b], TODOS, (t) => t.includes(`Ship it ${i}"`))
        expect(hasMarkers(text)).toBe(false)
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('a daemon stopped with a peer\'s value live, then git pull: the newer value a teammate committed since wins', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      await replaceIn(a.dir, TODOS, 'title: "Ship it"', 'title: "Ship it v1"')
      await waitFileEquals(b, readFile(a)!)
      expect(await stopWatch(db)).toBe(0)
      // Git's times are seconds: the commit is made in a later second than the stop.
      const stopped = Math.floor(Date.now() / 1000)
      await waitFor(async () => Math.floor(Date.now() / 1000) > stopped, 3000, 'the next second')
      await replaceIn(a.dir, TODOS, 'title: "Ship it v1"', 'title: "Ship it v2"')
      await gitIn(a.dir, ['commit', '-qam', 'ann: v2'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
      const p = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      const text = await read(b.dir, TODOS)
      expect(text, text).toContain('title: "Ship it v2"')
      expect(text).not.toContain('Ship it v1')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('a conflict the merge driver kept counts in status and fails status --check', async () => {
    const { remote, b, da, db } = await twoLivePeers()
    try {
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it bob"')
      await waitFor(async () => (await read(b.dir, TODOS)).includes('Ship it bob'), 5000, 'the edit')
      await gitIn(b.dir, ['commit', '-qam', 'bob: ship it'])
      const c = await cloneAs(remote, 'carl')
      await replaceIn(c, TODOS, 'title: "Ship it"', 'title: "Ship it carl"')
      await gitIn(c, ['commit', '-qam', 'carl: ship it'])
      await gitIn(c, ['push', '-q', 'origin', 'main'])
      const p = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull', '--no-edit'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      expect(p.stdout + p.stderr).toMatch(/kept one, see `ctxsync resolve --list`/)
      const check = await ctx(b.dir, ['status', '--check'])
      expect(check.exitCode, check.stdout + check.stderr).toBe(4)
      const st = await statusJson(b)
      expect(st.conflicts).toBeGreaterThan(0)
      expect(st.files.find((f: { path: string }) => f.path === TODOS).state).toBe('conflicted')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('switching to an older commit keeps the live context; the daemon names git switch -m, which switches back over it', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      // An agent's `git switch -c x && edit`: the checkout rewrote nothing, the edit right after it is kept and
      // synced (it was read as git's merge and the live text written over it: black-box tester, stop 31);
      // and back on main (the same commit: nothing rewritten either) the edit stays.
      await gitIn(b.dir, ['switch', '-q', '-c', 'agent'])
      await replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer on a branch"')
      await waitSame([a, b], TODOS, (t) => t.includes('Fix the renderer on a branch'))
      await gitIn(b.dir, ['switch', '-q', 'main'])
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it soon"')
      await gitIn(b.dir, ['commit', '-qam', 'bob: soon'])
      const live = await waitSame([a, b], TODOS, (t) => t.includes('Ship it soon'))
      await gitIn(b.dir, ['switch', '-q', '-c', 'old', 'HEAD~1'])
      await waitLog(db, /git switch -m <branch>/)
      expect(await read(b.dir, TODOS)).toBe(live)
      const sw = await gitIn(b.dir, ['switch', '-m', 'main'], { reject: false })
      expect(sw.exitCode, sw.stdout + sw.stderr).toBe(0)
      expect(await waitSame([a, b], TODOS)).toBe(live)
      await waitFor(async () => (await gitIn(b.dir, ['status', '--porcelain', '--', TODOS])).stdout === '', 10_000, 'the file clean on main')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('git checkout -m to an older commit over live context: no edit, nothing synced, the peer keeps newer values; switch -m back restores the live context', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      // c2 (bob) changes t1; then ann's live edit of t2 reaches bob: bob's clone is modified against c2.
      await replaceIn(b.dir, TODOS, 'title: "Write the parser"', 'title: "Write the parser v2"')
      await waitSame([a, b], TODOS, (t) => t.includes('parser v2'))
      await gitIn(b.dir, ['commit', '-qam', 'bob: c2'])
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer live"')
      const live = await waitSame([a, b], TODOS, (t) => t.includes('renderer live'))
      const co = await gitIn(b.dir, ['checkout', '-m', 'HEAD~1'], { reject: false })
      expect(co.exitCode, co.stdout + co.stderr).toBe(0)
      await waitLog(db, /kept the live context after git rewrote \.rhema\/todos\.yaml \(git checkout: moving from/)
      for (const p of [b, a]) expect(readFile(p), `${p.name}: ${textDiff(live, readFile(p) ?? '')}`).toBe(live)
      expect(db.log()).not.toMatch(/parser v2[\s\S]*synced|renderer live.*edit/)
      const sw = await gitIn(b.dir, ['switch', '-m', 'main'], { reject: false })
      expect(sw.exitCode, sw.stdout + sw.stderr).toBe(0)
      const back = await waitSame([a, b], TODOS)
      expect(back, textDiff(live, back)).toBe(live)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('git checkout -m to a commit new to the live context: taken in as git content (not an edit), merged with the live context, once on every peer', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it now"')
      await waitSame([a, b], TODOS, (t) => t.includes('Ship it now'))
      const c1 = await teammate(remote, 1)
      await gitIn(b.dir, ['fetch', '-q'])
      const co = await gitIn(b.dir, ['checkout', '-m', 'origin/main'], { reject: false })
      expect(co.exitCode, co.stdout + co.stderr).toBe(0)
      await waitLog(db, /took in new content from git: \.rhema\/todos\.yaml \(git checkout: moving from/)
      const text = await waitSame([a, b], TODOS, (t) => t.includes(c1) && t.includes('Ship it now'))
      for (const l of [c1, 'title: "Ship it now"']) expect(countLine(text, l), `${l} in\n${text}`).toBe(1)
      // The same commit pulled by ann later is taken in once: the checkout's ingestion carried its git mark.
      const p = await gitIn(a.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      const after = await waitSame([a, b], TODOS)
      expect(countLine(after, c1), after).toBe(1)
      expect(hasMarkers(after)).toBe(false)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('checkout -- FILE, restore FILE and checkout HEAD FILE revert the file, and the revert reaches the peer', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      const head = await read(b.dir, TODOS)
      // Many saves since the file last matched HEAD (more than the recent texts a model keeps), the last ones
      // of other fields: the revert was read as a stale save and they stayed (black-box tester, issue 15).
      const save = async (from: string, to: string) => {
        await replaceIn(b.dir, TODOS, from, to)
        await waitFileEquals(a, readFile(b)!)
      }
      for (const [i, cmd] of [['checkout', '--', TODOS], ['restore', TODOS], ['checkout', 'HEAD', TODOS]].entries()) {
        await save('title: "Ship it"', `title: "Ship it ${i}.0"`)
        for (let k = 1; i < 2 && k < 10; k++) await save(`title: "Ship it ${i}.${k - 1}"`, `title: "Ship it ${i}.${k}"`)
        if (i < 2) for (const [from, to] of [['title: "Fix the renderer"', 'title: "Fix the renderer now"'], ['status: open\n    tags: [render]', 'status: done\n    tags: [render]']]) await save(from!, to!)
        await gitIn(b.dir, cmd)
        await waitFileEquals(a, head)
        expect(await waitSame([a, b], TODOS)).toBe(head)
      }
      await waitLog(db, /took in git's revert of \.rhema\/todos\.yaml as an edit/)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('git stash, then git stash pop: nothing changed, no conflict; a peer\'s edit meanwhile is there after the pop', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it today"')
      const live = await waitSame([a, b], TODOS, (t) => t.includes('Ship it today'))
      expect((await gitIn(b.dir, ['stash'])).exitCode).toBe(0)
      await waitLog(db, /git stash holds the live context of \.rhema\/todos\.yaml/)
      const pop = await gitIn(b.dir, ['stash', 'pop'], { reject: false })
      expect(pop.exitCode, pop.stdout + pop.stderr).toBe(0)
      expect(await read(b.dir, TODOS)).toBe(live)
      expect(await waitSame([a, b], TODOS)).toBe(live)
      expect((await gitIn(b.dir, ['stash', 'list'])).stdout).toBe('')

      // A peer edits while the stash holds bob's live context: nothing is written until the pop, then all of it.
      await gitIn(b.dir, ['stash'])
      await waitLog(db, /git stash holds the live context/, 15_000)
      await replaceIn(a.dir, TODOS, 'title: "Write the parser"', 'title: "Write the parser again"')
      const stashed = await read(b.dir, TODOS)
      await waitFor(async () => (await stateVector(a.dir)) === (await stateVector(b.dir)), 10_000, "bob's sidecar to hold ann's edit")
      expect(await read(b.dir, TODOS)).toBe(stashed) // held: not written under the stash
      const pop2 = await gitIn(b.dir, ['stash', 'pop'], { reject: false })
      expect(pop2.exitCode, pop2.stdout + pop2.stderr).toBe(0)
      const text = await waitSame([a, b], TODOS, (t) => t.includes('Write the parser again') && t.includes('Ship it today'))
      expect(hasMarkers(text)).toBe(false)
      expect(countLine(text, 'title: "Ship it today"')).toBe(1)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })
})
