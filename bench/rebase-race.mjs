/**
 * Issue 15: `git pull --rebase` beside a running daemon while the other peer edits live, many rounds — the
 * long run of test/e2e/rebase-race.test.ts (1 round in CI). Every pull must exit 0: a daemon write between
 * the rebase's checkout onto upstream and its pick made git refuse the pick (found at seed 2, round 8,
 * before space/githold.ts). Runs the test file with a larger count, one seed after another.
 *
 *   node bench/rebase-race.mjs [--rounds N] [--seeds K] [--seed S] [--quick]
 *
 * Default 50 rounds (100 pulls) × 3 seeds: about 15 minutes on a quiet 2-CPU machine. Needs dist/ built.
 */
import { spawnSync } from 'node:child_process'
import { QUICK, ROOT, arg, report, requireBuild } from './lib.mjs'

requireBuild()
const ROUNDS = Number(arg('rounds', QUICK ? 3 : 50))
const SEEDS = Number(arg('seeds', QUICK ? 1 : 3))
const FIRST = Number(arg('seed', 1))
const failed = []
const t0 = Date.now()
for (let s = FIRST; s < FIRST + SEEDS; s++) {
  const r = spawnSync('npx', ['vitest', 'run', 'test/e2e/rebase-race.test.ts'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, REBASE_RACE_ROUNDS: String(ROUNDS), REBASE_RACE_SEED: String(s) },
  })
  if (r.status !== 0) {
    failed.push(s)
    console.log(`seed ${s} failed:\n${(r.stdout + r.stderr).split('\n').filter((l) => /seed \d+ round|error:|Error/.test(l)).slice(0, 8).join('\n')}`)
  }
}
report('git pull --rebase beside live daemons (rebase race)', [
  { figure: 'pulls (--rebase)', value: ROUNDS * 2 * SEEDS, digits: 0 },
  { figure: 'seeds failed', value: failed.length, digits: 0, target: { op: '<=', value: 0 }, note: failed.length ? `seeds ${failed.join(', ')}` : '' },
  { figure: 'wall clock', value: (Date.now() - t0) / 1000, unit: 's' },
], { rounds: ROUNDS, seeds: `${FIRST}..${FIRST + SEEDS - 1}` })
