/**
 * A revert made while no daemon runs (issue 15 item 2): `git restore FILE` / `git checkout -- FILE`, or a value
 * edited back to HEAD's text by hand (`sed -i`), with
 * bob's daemon stopped, then `watch` started again. The file is HEAD's content as bob's revert, which
 * reaches ann like an edit; what ann changed meanwhile elsewhere in the file stays on both.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { killAll, readFile, removeTmpDirs, startWatch, stopWatch, textDiff, TODOS, waitFileEquals, waitFor, waitLog, waitSame, type Daemon } from './helpers.js'
import { gitIn, read, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

describe('e2e: a git revert made while no daemon ran', { timeout: 240_000 }, () => {
  it('git restore / checkout -- FILE / a value edited back by hand with the daemon stopped: at the next start the revert is taken in and synced; the peer\'s edit meanwhile stays', async () => {
    const { a, b, da, db: db0 } = await twoLivePeers()
    const ds = [da, db0]
    try {
      // The last two rounds are no git command: bob edits his value back to HEAD's text by hand (sed -i),
      // which leaves the file holding HEAD's version just as a restore does — or, with another change of his
      // kept (t2 done), a text that is neither HEAD's nor the live context's.
      const byHand = ['sed', '-i', 's/title: "Ship it 2.0"/title: "Ship it"/', TODOS]
      const byHandKeeping = ['sed', '-i', 's/title: "Ship it 3.0"/title: "Ship it"/', TODOS]
      const done = (t: string) => t.replace('status: open\n    tags: [render]', 'status: done\n    tags: [render]')
      for (const [i, cmd] of [['git', 'restore', TODOS], ['git', 'checkout', '--', TODOS], byHand, byHandKeeping].entries()) {
        const committed = await read(b.dir, TODOS)
        const head = cmd === byHandKeeping ? done(committed) : committed
        // bob's saves, synced: one the first time (HEAD's text is then the one before the last), many the second.
        await replaceIn(b.dir, TODOS, 'title: "Ship it"', `title: "Ship it ${i}.0"`)
        await waitFileEquals(a, readFile(b)!)
        for (let k = 1; i === 1 && k < 8; k++) {
          await replaceIn(b.dir, TODOS, `title: "Ship it ${i}.${k - 1}"`, `title: "Ship it ${i}.${k}"`)
          await waitFileEquals(a, readFile(b)!)
        }
        if (cmd !== byHand) {
          await fsp.writeFile(path.join(b.dir, TODOS), done(await read(b.dir, TODOS)))
          await waitFileEquals(a, readFile(b)!)
        }
        expect(await stopWatch(ds.pop()!)).toBe(0)
        // ann edits another item while bob is away; bob discards his changes with git.
        const annSays = `title: "Write the parser ${i}"`
        await fsp.writeFile(path.join(a.dir, TODOS), (await read(a.dir, TODOS)).replace(/title: "Write the parser[^"]*"/, annSays))
        // Git's reflog times are whole seconds: the revert is made in a later second than HEAD's last move.
        const moved = Number((await gitIn(b.dir, ['reflog', '-1', '--date=unix', '--format=%gd'])).stdout.match(/\{(\d+)\}/)![1])
        await waitFor(async () => Math.floor(Date.now() / 1000) > moved, 3000, 'the next second')
        await execa(cmd[0]!, cmd.slice(1), { cwd: b.dir })
        expect(await read(b.dir, TODOS)).toBe(head)
        const db = await startWatch(b)
        ds.push(db)
        await waitLog(db, /connected to ann/)
        const want = head.replace(/title: "Write the parser[^"]*"/, annSays)
        const got = await waitSame([a, b], TODOS, (t) => t === want, 20_000).catch(async () => {
          const [ta, tb] = [readFile(a) ?? '', readFile(b) ?? '']
          throw new Error(`round ${i} (${cmd.join(' ')}): ann ${textDiff(want, ta)}\nbob ${textDiff(want, tb)}`)
        })
        expect(got).toBe(want)
        await waitLog(db, /\.rhema\/todos\.yaml: your edit taken in/)
        expect(db.log()).not.toMatch(/kept the live context/)
        // The revert is bob's edit, and git's HEAD is untouched: only ann's edit remains as a local change.
        await gitIn(b.dir, ['commit', '-qam', `round ${i}`])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs(ds)}`)
    }
  })
})
