/**
 * What the daemon leaves in git's index and says in its log (black-box tester, findings 9, 10, 7), with
 * `hooks install` done and daemons running on two clones of a bare remote.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, killAll, readFile, removeTmpDirs, startWatch, TODOS, waitFileEquals, waitFor, waitLog, waitSame, writeText, type Daemon } from './helpers.js'
import { cloneAs, gitIn, replaceIn, twoLivePeers, twoPeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')
const PATTERNS = '.rhema/patterns.yaml'

describe('e2e: git working-tree hygiene', { timeout: 240_000 }, () => {
  it("a peer's new file the daemon staged, then deleted: unstaged again, and a plain rm is said as a deletion", async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      await writeText(path.join(b.dir, PATTERNS), 'patterns:\n  - id: p1\n    name: "retry"\n    kind: reliability\n')
      await waitLog(da, /staged \.rhema\/patterns\.yaml, new to git here/)
      expect((await gitIn(a.dir, ['status', '--porcelain', '--', PATTERNS])).stdout).toBe(`A  ${PATTERNS}`)
      const before = db.log().length
      await fsp.rm(path.join(b.dir, PATTERNS))
      await waitFileEquals(a, null, PATTERNS)
      let st = ''
      await waitFor(async () => (st = (await gitIn(a.dir, ['status', '--porcelain', '--', PATTERNS])).stdout) === '', 15_000, "ann's index to drop what her daemon staged", () => st)
      expect((await gitIn(a.dir, ['diff', '--cached', '--stat'])).stdout).toBe('')
      await waitLog(db, /patterns\.yaml.*delet/)
      expect(db.log().slice(before)).not.toMatch(/revert/)
      // Bob's own new file was never his daemon's to stage.
      expect((await gitIn(b.dir, ['status', '--porcelain', '--', PATTERNS])).stdout).toBe('')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('a plain rm while git held its index lock (a git status) is a deletion, and a pull says only what git did', async () => {
    const { remote, a, b } = await twoPeers()
    // Bob's daemon says when it pauses for git (a debug line): the rm below must be seen while it is paused.
    const [da, db] = await Promise.all([startWatch(a), startWatch(b, [], { DEBUG: 'ctxsync:space:gitwatch' })])
    await waitLog(db, /connected to ann/)
    try {
      // A pull of a teammate's commit over bob's live edit: merged, said once as git's (it was said as
      // "your edit taken in" first).
      const c = await cloneAs(remote, 'carl')
      await fsp.appendFile(path.join(c, TODOS), '  - id: c1\n    title: "From carl"\n    status: open\n')
      await gitIn(c, ['commit', '-qam', 'carl'])
      await gitIn(c, ['push', '-q', 'origin', 'main'])
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', 'title: "Ship it today"')
      await waitFileEquals(a, readFile(b)!)
      const mark = db.log().length
      const p = await gitIn(b.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitSame([a, b], TODOS, (t) => t.includes('From carl') && t.includes('Ship it today'))
      await waitLog(db, /\(git pull/)
      expect(db.log().slice(mark)).not.toMatch(/your edit taken in/)

      // Bob's plain rm of his new file (not in HEAD), seen while git holds its index lock (as `git status`
      // does for a moment): git's version is no file, but git did not remove it.
      await writeText(path.join(b.dir, PATTERNS), 'patterns:\n  - id: p1\n    name: "retry"\n')
      await waitFor(() => readFile(a, PATTERNS) !== null, 15_000, 'ann to get the new file')
      const lock = path.join(b.dir, '.git', 'index.lock')
      const paused = (db.log().match(/pausing: git is at work/g) ?? []).length
      await fsp.writeFile(lock, '')
      await waitFor(() => (db.log().match(/pausing: git is at work/g) ?? []).length > paused, 10_000, "bob's daemon to pause for git")
      await fsp.rm(path.join(b.dir, PATTERNS))
      await fsp.rm(lock)
      await waitFileEquals(a, null, PATTERNS)
      await waitLog(db, /\.rhema\/patterns\.yaml: deleted here, synced/)
      expect(db.log()).not.toMatch(/revert/)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('git checkout -- FILE behind the live context says what it took back, whose, and the undo; most entries removed: the warning', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      // Live edits nobody committed: bob retitles one todo and adds six, ann retitles another.
      const added = [4, 5, 6, 7, 8, 9].map((i) => `  - id: t${i}\n    title: "Added live ${i}"\n    status: open\n    tags: [live, added, many]\n    description: |\n      A todo the team added while ctxsync ran, never committed.\n`).join('')
      await replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer now"')
      await fsp.appendFile(path.join(b.dir, TODOS), added)
      await waitSame([a, b], TODOS, (t) => t.includes('Added live 9') && t.includes('renderer now'))
      await replaceIn(a.dir, TODOS, 'title: "Ship it"', 'title: "Ship it soon"')
      const live = await waitSame([a, b], TODOS, (t) => t.includes('Ship it soon'))
      await gitIn(a.dir, ['checkout', '--', TODOS])
      await waitLog(da, /took in git's revert of \.rhema\/todos\.yaml as an edit \(git restore \/ checkout of files\), synced: \d+ field\(s\) changed back \(last set by (ann, bob|bob, ann)\); `ctxsync undo [0-9a-f]+` takes it back/)
      await waitLog(da, /\.rhema\/todos\.yaml: this save removed 6 of \d+ entries/)
      await waitSame([a, b], TODOS, (t) => !t.includes('Added live'))
      const id = /`ctxsync undo ([0-9a-f]+)` takes it back/.exec(da.log())![1]!
      const u = await ctx(a.dir, ['undo', id])
      expect(u.exitCode, u.stdout + u.stderr).toBe(0)
      expect(await waitSame([a, b], TODOS, (t) => t.includes('Added live 9'))).toBe(live)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })
})
