/**
 * Git operations the daemon used to misread (issue 15, black-box tester's round 3), with `hooks install`
 * done and daemons running on two clones of a bare remote: a file removed just before a pull that changes
 * it; edits while a stash holds the live context; what `git revert` / `reset --hard` did, said in the log.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, freePort, killAll, readFile, removeTmpDirs, startWatch, stopWatch, TODOS, waitFileEquals, waitFor, waitLog, waitSame, type Daemon } from './helpers.js'
import { bareRemote, cloneAs, CONTEXT_TODOS, countLine, founder, gitIn, hasMarkers, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

describe('e2e: git operations the daemon must read right', { timeout: 240_000 }, () => {
  it('rm, then a pull that changes the file: what git left stays and reaches the peer, not a second deletion', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      for (const [i, pull] of [[1, ['-c', 'pull.rebase=false', 'pull']], [2, ['pull', '--rebase']]] as const) {
        // Ann's live edit reaches bob; she commits and pushes it (content bob's CRDT already held).
        await replaceIn(a.dir, TODOS, /title: "Ship it[^"]*"/.exec(readFile(a)!)![0], `title: "Ship it ${i}"`)
        const committed = readFile(a)!
        await waitFileEquals(b, committed)
        await gitIn(a.dir, ['commit', '-qam', `ann: ship it ${i}`])
        await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
        // Bob removes the file (the deletion reaches ann), then pulls: git's autostash cannot merge the
        // deletion with the change, leaves the pulled file and keeps the deletion in the stash.
        await fsp.rm(path.join(b.dir, TODOS))
        await waitFileEquals(a, null)
        const p = await gitIn(b.dir, [...pull], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        expect(readFile(b)).toBe(committed)
        // Bob keeps what git brought: drops the autostash and marks the file resolved.
        await gitIn(b.dir, ['stash', 'drop'])
        // (Seen after the drop, or already after the pull when the daemon looked before git stored the autostash.)
        await waitLog(db, /git brought back \.rhema\/todos\.yaml, deleted here before it ran \(git (stash pop \/ drop|pull[^)]*)\): taken in as git left it and synced/)
        expect(await waitSame([a, b], TODOS)).toBe(committed)
        await gitIn(b.dir, ['add', TODOS])
        expect((await gitIn(b.dir, ['status', '--porcelain', '--', TODOS])).stdout).toBe('')
        expect(readFile(a)).toBe(committed)
        expect(db.log()).not.toMatch(/deleted \.rhema\/todos\.yaml \((by .*|deleted by a peer)\)/)
        if (i === 1) expect((db.log().match(/git brought back/g) ?? []).length).toBe(1)
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('edits while git stash holds the live context: taken in and synced, and a plain git stash pop keeps them and the stash', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it today"')
      await waitSame([a, b], TODOS, (t) => t.includes('Ship it today'))
      await gitIn(b.dir, ['stash'])
      await waitLog(db, /git stash holds the live context of \.rhema\/todos\.yaml/)
      // Bob edits the file git left (twice), ann edits hers meanwhile.
      await replaceIn(b.dir, TODOS, 'title: "Write the parser"', 'title: "Write the parser now"')
      await waitLog(db, /\.rhema\/todos\.yaml: your edit is taken in and synced while `git stash` holds the live context; staged, so that `git stash pop` merges the stash into it/)
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer too"')
      await replaceIn(b.dir, TODOS, '      - second note\n', '      - second note\n      - third note\n')
      const all = (t: string) => ['Write the parser now', 'Fix the renderer too', 'Ship it today', '- third note'].every((s) => t.includes(s))
      await waitFor(() => all(readFile(a)!), 15_000, "ann's file to hold every edit and the stashed one", () => readFile(a)!)
      // Bob's file is left as he wrote it: the stashed change is not written back under the stash.
      await waitFor(async () => (await gitIn(b.dir, ['diff', '--quiet', '--', TODOS], { reject: false })).exitCode === 0, 10_000, 'his last edit staged')
      expect(readFile(b)).not.toContain('Ship it today')
      expect(readFile(b)).toContain('- third note')
      const pop = await gitIn(b.dir, ['stash', 'pop'], { reject: false })
      expect(pop.exitCode, pop.stdout + pop.stderr).toBe(0)
      expect((await gitIn(b.dir, ['stash', 'list'])).stdout).toBe('')
      const text = await waitSame([a, b], TODOS, all)
      expect(hasMarkers(text), text).toBe(false)
      for (const l of ['title: "Ship it today"', 'title: "Write the parser now"', '- third note']) expect(countLine(text, l), `${l} in\n${text}`).toBe(1)
      // As without ctxsync: after the pop nothing is staged that bob did not stage (the daemon staged his
      // edits only so that the pop could merge into them; it left the file 'MM').
      let st = ''
      await waitFor(async () => (st = (await gitIn(b.dir, ['status', '--porcelain', '--', TODOS])).stdout) === ` M ${TODOS}`, 10_000, 'the file modified, not staged', () => st)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  // The hold lived in the daemon: restarted while the stash held the files, it wrote the live context back
  // over git's version and `git stash pop` refused ("Your local changes … would be overwritten").
  it('a daemon restarted while git stash holds the live context holds it again: the pop works, nothing lost', async () => {
    const { a, b, da, db } = await twoLivePeers()
    let dbNow = db
    try {
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it today"')
      await waitSame([a, b], TODOS, (t) => t.includes('Ship it today'))
      await gitIn(b.dir, ['stash'])
      await waitLog(db, /git stash holds the live context of \.rhema\/todos\.yaml/)
      const gits = readFile(b)!
      await stopWatch(db)
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer too"')
      dbNow = await startWatch(b)
      await waitLog(dbNow, /git stash still holds the live context of \.rhema\/todos\.yaml/)
      // Ann's edit reaches bob's CRDT (status: synced) but not his file while the stash holds it.
      await waitLog(dbNow, /connected to ann/)
      // A sync through bob's daemon ends once ann's edit is in his CRDT: still not written under the stash.
      await ctxJson(b.dir, ['sync'])
      expect(readFile(b)).toBe(gits)
      const pop = await gitIn(b.dir, ['stash', 'pop'], { reject: false })
      expect(pop.exitCode, pop.stdout + pop.stderr).toBe(0)
      const text = await waitSame([a, b], TODOS, (t) => t.includes('Ship it today') && t.includes('Fix the renderer too'))
      expect(hasMarkers(text), text).toBe(false)
      expect(countLine(text, 'title: "Ship it today"')).toBe(1)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, dbNow])}`)
    }
  })

  it('git revert and git reset --hard of context commits, a restore, a pull: each said in the log and ctxsync log, a pull never as a revert', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
      const f = esc(TODOS)
      for (const [from, to, msg] of [['title: "Ship it"', 'title: "Ship it today"', 'ann: today'], ['title: "Fix the renderer"', 'title: "Fix the renderer first"', 'ann: first']]) {
        await replaceIn(a.dir, TODOS, from!, to!)
        await waitFileEquals(b, readFile(a)!)
        await gitIn(a.dir, ['commit', '-qam', msg!])
      }
      const live = readFile(a)!
      // A revert commit and a reset to an older commit are git's history, not edits: kept out, said so.
      await gitIn(a.dir, ['revert', '--no-edit', 'HEAD'])
      await waitLog(da, new RegExp(`kept the live context after git rewrote ${f} \\(git revert: Revert "ann: first"\\): git's version is kept out, not synced; \`git restore ${f}\` makes git's version the live context`))
      await gitIn(a.dir, ['reset', '--hard', 'HEAD~2'])
      await waitLog(da, new RegExp(`kept the live context after git rewrote ${f} \\(git reset: moving to HEAD~2\\): git's version is kept out`))
      expect(await waitSame([a, b], TODOS)).toBe(live)
      // The restore the daemon advised: git's version becomes the live context.
      await gitIn(a.dir, ['restore', TODOS])
      await waitLog(da, new RegExp(`took in git's revert of ${f} as an edit \\(git restore / checkout of files\\), synced`))
      const restored = await waitSame([a, b], TODOS, (t) => !t.includes('Fix the renderer first'))
      expect(restored).toContain('Ship it today')
      const j = await ctxJson(a.dir, ['log', '--json'])
      const seen = j.entries.filter((e: { via: string }) => e.via === 'daemon')
      expect(seen.map((e: { subject: string; git: Array<{ path: string; outcome: string }> }) => [e.subject, e.git.map((g) => `${g.path}:${g.outcome}`).join()])).toEqual([
        ['git restore / checkout of files', `${TODOS}:edit`],
        ['git reset: moving to HEAD~2', `${TODOS}:kept-out`],
        ['git revert: Revert "ann: first"', `${TODOS}:kept-out`],
      ])
      const text = (await ctx(a.dir, ['log', TODOS])).stdout
      expect(text).toMatch(new RegExp(`git reset: moving to HEAD~2\\n  ${f}: git's version kept out: the live context stays \\(not synced\\)`))
      expect(text).toMatch(new RegExp(`git restore / checkout of files\\n  ${f}: taken in as an edit and synced`))

      // Pulls of a teammate's commit over live context, merge then rebase: said as what they were, never as a revert.
      for (const [i, pull] of [[1, ['-c', 'pull.rebase=false', 'pull']], [2, ['pull', '--rebase']]] as const) {
        const c = await cloneAs(remote, `carl${i}`)
        await fsp.appendFile(path.join(c, TODOS), `  - id: c${i}\n    title: "From carl ${i}"\n    status: open\n`)
        await gitIn(c, ['commit', '-qam', `carl ${i}`])
        await gitIn(c, ['push', '-q', 'origin', 'main'])
        await replaceIn(b.dir, TODOS, /title: "Write the parser[^"]*"/.exec(readFile(b)!)![0], `title: "Write the parser ${i}"`)
        await waitFileEquals(a, readFile(b)!)
        const p = await gitIn(b.dir, [...pull], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        await waitSame([a, b], TODOS, (t) => t.includes(`From carl ${i}`) && t.includes(`Write the parser ${i}"`))
        await waitLog(db, new RegExp(`${f}.*\\(git pull${i === 2 ? ' --rebase' : ''}`))
      }
      expect(db.log()).not.toMatch(/revert/)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('a git merge that changes context files is one entry in ctxsync log: its sync point, with what the daemon made of it', async () => {
    // Both branches change the context; the merge makes a commit the daemon sees git write (its journal names
    // the merge commit) and the post-merge hook records a sync point on it. The log listed that commit twice.
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const port = await freePort()
    const { dir } = await founder(remote, 'ann', port)
    const carl = await cloneAs(remote, 'carl')
    await gitIn(carl, ['checkout', '-qb', 'feat'])
    await replaceIn(carl, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer (feat)"')
    await gitIn(carl, ['commit', '-qam', 'carl: feat'])
    await gitIn(carl, ['push', '-q', 'origin', 'feat'])
    const da = await startWatch({ name: 'ann', dir, port, url: `ws://127.0.0.1:${port}` })
    try {
      await replaceIn(dir, TODOS, 'title: "Ship it"', 'title: "Ship it (main)"')
      await waitLog(da, /todos\.yaml: your edit taken in/)
      await gitIn(dir, ['commit', '-qam', 'ann: main'])
      await gitIn(dir, ['fetch', '-q', 'origin'])
      await gitIn(dir, ['merge', '--no-edit', 'origin/feat'])
      const merge = (await gitIn(dir, ['rev-parse', 'HEAD'])).stdout.trim()
      await waitLog(da, /took in new content from git: \.rhema\/todos\.yaml \(git merge origin\/feat/)
      type Entry = { commit: string; via: string; git?: Array<{ path: string; outcome: string }> }
      let entries: Entry[] = []
      await waitFor(async () => {
        entries = (await ctxJson(dir, ['log'])).entries
        return entries.some((e) => e.commit === merge && e.via === 'merge')
      }, 20_000, 'the sync point of the merge', () => JSON.stringify(entries, null, 1))
      const ofMerge = entries.filter((e) => e.commit === merge)
      expect(ofMerge, JSON.stringify(entries, null, 1)).toHaveLength(1)
      expect(ofMerge[0]).toMatchObject({ via: 'merge', git: [{ path: TODOS, outcome: 'taken-in' }] })
      const text = (await ctx(dir, ['log'])).stdout
      expect(text.split('\n').filter((l) => l.startsWith(merge.slice(0, 7))), text).toHaveLength(1)
      expect(text).toMatch(new RegExp(`^${merge.slice(0, 7)} .*\\(recorded at merge\\)  Merge remote-tracking branch 'origin/feat'\\n  \\.rhema/todos\\.yaml: new content taken in and synced$`, 'm'))
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da])}`)
    }
  })
})
