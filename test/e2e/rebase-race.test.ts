/**
 * `git pull --rebase` beside a running daemon while the other peer keeps editing live (issue 15): the
 * daemon must never write a context file between the rebase's checkout onto upstream and its pick, or git
 * refuses the pick ("Your local changes … would be overwritten"). Seen once in merge-seen.test.ts's first run.
 *
 * Seeded rounds: each clone commits its own live edit and pulls with --rebase at once (the daemon is still
 * taking in the commit), while the other peer's file is rewritten every few milliseconds, so that writes
 * are in flight on the pulling clone when git starts. CI runs one round (two pulls: the setup is most of its time); `REBASE_RACE_ROUNDS=200
 * REBASE_RACE_SEED=7 npx vitest run test/e2e/rebase-race.test.ts` (or `node bench/rebase-race.mjs`) many.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { edit, killAll, removeTmpDirs, TODOS, waitFor, waitSame, type Daemon, type Peer } from './helpers.js'
import { gitIn, hasMarkers, read, twoLivePeers } from './gitHelpers.js'
import { mulberry32 } from '../helpers/random.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const ROUNDS = Number(process.env.REBASE_RACE_ROUNDS) || 1
const SEED = Number(process.env.REBASE_RACE_SEED) || 1
const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

/** Rewrites t2's title on `p` every 0-`gapMs` ms until stopped: a peer typing while the other pulls. */
function liveWriter(p: Peer, rnd: () => number, gapMs: number, tag: string): { stop: () => Promise<number> } {
  let on = true
  let n = 0
  const run = (async () => {
    while (on) {
      const t = await read(p.dir, TODOS)
      const m = /title: "Fix the renderer[^"]*"/.exec(t)
      if (m) await edit(p, m[0], `title: "Fix the renderer ${tag} ${++n}"`).catch(() => undefined)
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * gapMs)))
    }
  })()
  return { stop: async () => ((on = false), await run, n) }
}

describe('e2e: git pull --rebase while the other peer edits live', { timeout: 600_000 }, () => {
  it(`${ROUNDS} seeded rounds (seed ${SEED}): every pull --rebase exits 0, no markers, peers identical`, async () => {
    const { a, b, da, db } = await twoLivePeers()
    const rnd = mulberry32(SEED)
    const titles: string[] = []
    try {
      for (let r = 1; r <= ROUNDS; r++) {
        for (const [me, other, field] of [[b, a, 'title: "Write the parser'], [a, b, 'title: "Ship it']] as const) {
          // My own edit, seen by the other peer, committed; then at once (the daemon still busy with the
          // commit) a pull --rebase while the other peer rewrites a value every few milliseconds.
          const cur = new RegExp(`${field}[^"]*"`).exec(await read(me.dir, TODOS))![0]
          const mine = `${field} ${me.name} ${r}"`
          await edit(me, cur, mine)
          titles.push(mine)
          await waitFor(async () => (await read(other.dir, TODOS)).includes(mine), 20_000, `${other.name} shows ${mine}`)
          await gitIn(me.dir, ['commit', '-qam', `${me.name} round ${r}`])
          // Half the rounds the other peer is quiet (a clean tree: no autostash, the daemon busy only with
          // what the commit left to do); the delay spans the daemon's quiet period and its reconcile after it.
          const w = rnd() < 0.5 ? liveWriter(other, rnd, 40, `${other.name}${r}`) : null
          await new Promise((res) => setTimeout(res, Math.floor(rnd() * 900)))
          const p = await gitIn(me.dir, ['pull', '--rebase'], { reject: false })
          await w?.stop()
          expect(p.exitCode, `seed ${SEED} round ${r}: ${me.name}'s git pull --rebase\n${p.stdout}${p.stderr}`).toBe(0)
          const push = await gitIn(me.dir, ['push', '-q', 'origin', 'HEAD:main'], { reject: false })
          expect(push.exitCode, `seed ${SEED} round ${r}: ${me.name}'s push\n${push.stderr}`).toBe(0)
        }
      }
      const text = await waitSame([a, b], TODOS, (t) => titles.slice(-2).every((x) => t.includes(x)), 30_000)
      expect(hasMarkers(text), text).toBe(false)
      for (const p of [a, b]) expect((await gitIn(p.dir, ['status', '--porcelain'])).stdout, p.name).not.toMatch(/^(UU|AA|DU|UD) /m)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })
})
