/**
 * Git operations the daemon used to misread (issue 15, black-box tester's round 3), with `hooks install`
 * done and daemons running on two clones of a bare remote: a file removed just before a pull that changes
 * it; edits while a stash holds the live context; what `git revert` / `reset --hard` did, said in the log.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { killAll, readFile, removeTmpDirs, TODOS, waitFileEquals, waitFor, waitLog, waitSame, type Daemon } from './helpers.js'
import { countLine, gitIn, hasMarkers, replaceIn, twoLivePeers } from './gitHelpers.js'

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
        await waitLog(db, /git brought back \.rhema\/todos\.yaml, deleted here before it ran/)
        expect(await waitSame([a, b], TODOS)).toBe(committed)
        await gitIn(b.dir, ['add', TODOS])
        expect((await gitIn(b.dir, ['status', '--porcelain', '--', TODOS])).stdout).toBe('')
        expect(readFile(a)).toBe(committed)
        expect(db.log()).not.toMatch(/deleted \.rhema\/todos\.yaml \(deleted by a peer\)/)
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
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })
})
