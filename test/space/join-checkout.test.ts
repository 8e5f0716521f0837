/**
 * A new member's `git checkout -m main` without sync points (a team without the hooks; black-box tester stop
 * 31, finding 1 without `fcc3478`'s notes): ann commits X, bob then sets Y live (uncommitted), dan (plain git)
 * commits something else on top of X; a clone of the commit before X joins and checks out dan's commit. No
 * note says X was held live, and the clone never held it, so dan's commit was new content, diffed against
 * the commit the clone joined from: X came with it and rolled Y back on every peer, with no record. The
 * commits' own steps since then tell X apart: its change is older than the live Y that replaced it.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { init } from '../../src/commands/init.js'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { spacePaths } from '../../src/space/paths.js'
import { driverMerge, idle, joinCode, Node, TODOS } from './harness.js'
import { cloneJoins, exchange, git, type CloneEdit } from './joinRig.js'
import { gitAsDaemon } from './gitworld.js'
import { removeXYWorlds, xThenY, XY_SEED } from './xyworld.js'

afterAll(removeXYWorlds)

/**
 * ann commits X, bob then sets Y live, dan (plain git) commits a line of his own on top of X; gil, a clone of
 * the commit before X, joins (no sync points anywhere). `target`: whose commit gil's main is (dan's, or ann's X).
 */
async function world(target: 'dan' | 'ann', held: 'live' | 'pulled' = 'live') {
  const { parent, root, base, a, b } = await xThenY('ctxsync-join-checkout-', held)
  expect(await a.file()).toContain('Y live by bob')
  // dan (plain git) commits something else on top of X, after Y (his commit is newer than Y: as in the tester's run).
  await new Promise((r) => setTimeout(r, 1100))
  const dan = path.join(parent, 'dan')
  git(parent, ['clone', '-q', root, dan])
  await fs.appendFile(path.join(dan, TODOS), '# dan C2\n')
  git(dan, ['commit', '-qam', 'C2 dan'])
  // gil: a clone at the commit before X joins, then checks out dan's commit with -m.
  const gil = path.join(parent, 'gil')
  git(parent, ['clone', '-q', root, gil])
  git(gil, ['checkout', '-q', '--detach', base])
  git(gil, ['fetch', '-q', target === 'dan' ? dan : root, 'main'])
  git(gil, ['branch', '-f', 'main', 'FETCH_HEAD'])
  await init({ cwd: gil, name: 'gil', discovery: 'none', join: await joinCode(root) })
  const c = new Node(gil)
  const failures: Array<{ kind: string; detail: string }> = []
  await cloneJoins(c, a, b, { text: XY_SEED } as CloneEdit, XY_SEED, true, () => 0.9, failures)
  await Promise.all([idle(a.s), idle(b.s), idle(c.s)])
  expect(failures).toEqual([])
  expect(await c.file()).toContain('Y live by bob')
  return { a, b, c, gil, base }
}

it.each([
  ['dan\'s commit on top of X', 'dan'],
  ['ann\'s commit of X itself (HEAD\'s own change superseded)', 'ann'],
])('a joiner\'s checkout -m of %s, X since changed live: the live value stays, the commit\'s own change comes in', async (_what, target) => {
  const { a, b, c } = await world(target as 'dan' | 'ann')
  await gitAsDaemon(c, ['checkout', '-q', '-m', 'main'], 'gil')
  await exchange(c, a)
  await exchange(a, b)
  for (const n of [c, a, b]) {
    const t = (await n.file())!
    expect(t, n.root).toContain('Y live by bob')
    expect(t, n.root).not.toContain('X committed by ann')
    if (target === 'dan') expect(t, n.root).toContain('# dan C2')
  }
  for (const n of [a, b, c]) await n.close()
})

// Black-box tester stop 32, finding 3 (hooks team): gil runs `git pull` instead; the merge driver applying
// the autostash (base: gil's old commit, ours: dan's HEAD carrying X, theirs: the live Y) recorded "dan and
// bob changed it at once" on every peer. Run here as git runs the driver, with the stash git's autostash holds.
// X is superseded because the live context held it (ann's live edit) and bob's Y was written over it; by time
// alone (17aab64) a real race read so too (gitsupersede.test.ts).
it.each([
  ['ann\'s live edit, then her commit', 'live'],
  ['carl\'s commit, pulled live by ann', 'pulled'],
])('the merge driver applying a joiner\'s autostash over dan\'s commit carrying the superseded X (%s): Y kept, no record', async (_what, held) => {
  const { a, b, c, gil } = await world('dan', held as 'live' | 'pulled')
  const live = (await c.file())!
  // A daemon's CRDT is on disk, where the driver reads it; the harness keeps it in memory: written there.
  const store = new FileDocStore({ dir: spacePaths(gil).docs })
  await store.append(TODOS, c.host().encodeDiff(TODOS, new Uint8Array([0]))!)
  await store.close()
  await c.close()
  const baseText = git(gil, ['show', `HEAD:${TODOS}`])
  git(gil, ['stash', '-q'])
  git(gil, ['merge', '-q', '--ff-only', 'main'])
  const ours = git(gil, ['show', `HEAD:${TODOS}`])
  const r = await driverMerge(c, baseText, ours, live)
  expect(r.conflicts, r.said.join('\n')).toBe(0)
  expect(r.merged).toContain('Y live by bob')
  expect(r.merged).toContain('# dan C2')
  for (const n of [a, b]) await n.close()
})
