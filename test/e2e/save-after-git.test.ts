/**
 * A save made shortly after a git command is an edit like any other (invariant 2): the daemon pauses while
 * git works and reconciles after it, and a person who saves during or just after that must not lose the
 * save. CI saw it twice under load (git-ops' revert story: bob's save after `git pull --rebase` never taken
 * in; merge-seen's `switch -m` story likewise), never on demand: the window is where git's steps, the
 * hook's sync point, the daemon's reconcile and its own git calls (snapshots, staging) meet.
 *
 * Seeded rounds: bob runs a git command drawn from what people run (pull of a teammate's commit, merge or
 * rebase; commit of the live edit; status; fetch; log), then saves an in-place edit after a random delay
 * (0–1.2 s: before, during and after the daemon's quiet period and reconcile). Each save must reach ann.
 * CI runs a few rounds; `SAVE_GIT_ROUNDS=100 SAVE_GIT_SEED=7 npx vitest run test/e2e/save-after-git.test.ts`
 * many.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { killAll, removeTmpDirs, TODOS, waitFor, type Daemon } from './helpers.js'
import { cloneAs, gitIn, read, twoLivePeers } from './gitHelpers.js'
import { mulberry32 } from '../helpers/random.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const ROUNDS = Number(process.env.SAVE_GIT_ROUNDS) || 6
const SEED = Number(process.env.SAVE_GIT_SEED) || 1
const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

type Command = 'pull' | 'pull --rebase' | 'commit' | 'status' | 'fetch' | 'log'
const COMMANDS: Command[] = ['pull', 'pull --rebase', 'commit', 'status', 'fetch', 'log']

describe('e2e: a save right after a git command', { timeout: 900_000 }, () => {
  it(`${ROUNDS} seeded rounds (seed ${SEED}): every save made after a git command reaches the peer`, async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    const carl = await cloneAs(remote, 'carl')
    const rnd = mulberry32(SEED)
    let round = 0
    try {
      for (round = 1; round <= ROUNDS; round++) {
        const cmd = COMMANDS[Math.floor(rnd() * COMMANDS.length)]!
        const delay = Math.floor(rnd() * 1200)
        if (cmd.startsWith('pull')) {
          // A teammate without ctxsync pushed a new todo: the pull changes the context file.
          await gitIn(carl, ['pull', '-q', '--rebase', 'origin', 'main'])
          await fsp.appendFile(path.join(carl, TODOS), `  - id: c${round}\n    title: "From carl ${round}"\n    status: open\n`)
          await gitIn(carl, ['commit', '-qam', `carl ${round}`])
          await gitIn(carl, ['push', '-q', 'origin', 'HEAD:main'])
        }
        const args = cmd === 'pull' ? ['-c', 'pull.rebase=false', 'pull', '-q'] : cmd === 'pull --rebase' ? ['pull', '-q', '--rebase'] : cmd === 'commit' ? ['commit', '-qam', `bob ${round}`, '--allow-empty'] : cmd === 'status' ? ['status', '--short'] : cmd === 'fetch' ? ['fetch', '-q'] : ['log', '-1', '--oneline']
        const g = await gitIn(b.dir, args, { reject: false })
        expect(g.exitCode, `seed ${SEED} round ${round}: git ${cmd}\n${g.stdout}${g.stderr}`).toBe(0)
        await new Promise((r) => setTimeout(r, delay))
        // The save: bob rewrites one title in place, as an editor does.
        const mine = `title: "Write the parser ${SEED}.${round}"`
        const file = path.join(b.dir, TODOS)
        const before = await read(b.dir, TODOS)
        const cur = /title: "Write the parser[^"]*"/.exec(before)![0]
        await fsp.writeFile(file, before.replace(cur, mine))
        await waitFor(async () => (await read(a.dir, TODOS)).includes(mine), 30_000, `seed ${SEED} round ${round} (git ${cmd}, save ${delay} ms after): ann shows bob's save ${mine}`)
        if (cmd.startsWith('pull')) await waitFor(async () => (await read(a.dir, TODOS)).includes(`From carl ${round}"`), 30_000, `ann shows carl's todo ${round}`)
        expect(await read(b.dir, TODOS), `seed ${SEED} round ${round}: bob's file keeps his save`).toContain(mine)
      }
    } catch (e) {
      throw new Error(`round ${round}: ${(e as Error).message}\n${logs([da, db])}`)
    }
  })
})
