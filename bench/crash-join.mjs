/**
 * Issue 13 benchmark: kill -9 of a new member's first lives (test/e2e/crash-join.test.ts: a clone of an older
 * commit with a todo of its own, its `watch` killed at random moments while a peer keeps editing, then started
 * for good: no record, nothing rolled back, every todo once), for many clones. The test is TypeScript on the
 * built CLI, so it runs through vitest; CI runs one clone with a new seed each run.
 *
 * Prints the clones tried, the failing seeds with what failed, and the time.
 *
 *   node bench/crash-join.mjs [--quick] [--rounds N] [--kills N] [--seed S]
 */
import { QUICK, arg, report, run, vitestRun } from './lib.mjs'

run(async () => {
  const rounds = Number(arg('rounds', QUICK ? 3 : 50))
  const kills = Number(arg('kills', 8))
  const seed = Number(arg('seed', Date.now() % 1_000_000))
  console.log(`crash-join: ${rounds} clones × ${kills} kills, seeds ${seed}..${seed + rounds - 1}`)
  const t0 = performance.now()
  const r = await vitestRun('test/e2e/crash-join.test.ts', { CTXSYNC_CRASH_JOIN_ROUNDS: String(rounds), CTXSYNC_CRASH_JOIN_KILLS: String(kills), CTXSYNC_CRASH_SEED: String(seed) })
  const failed = [...new Set([...r.out.matchAll(/seed (\d+) \(replay/g)].map((m) => m[1]))]
  // Each failure as vitest printed it (the assertion, the kills' trail, B's log), without the daemons' chatter.
  for (const block of r.out.split(/^ FAIL /m).slice(1)) console.log(` FAIL ${block.split(/^⎯{5,}/m)[0].split('\n').filter((l) => !/your edit taken in/.test(l)).slice(0, 60).join('\n')}`)
  const passed = Number(/Tests\s+(?:\d+ failed \| )?(\d+) passed/.exec(r.out)?.[1] ?? 0)
  report('crash-join: kill -9 of a joining clone', [
    { figure: 'clones joined after the kills', value: rounds, digits: 0 },
    { figure: 'clones that kept every todo, no record', value: passed, digits: 0, target: { op: '>=', value: rounds } },
    { figure: 'time', value: (performance.now() - t0) / 1000, digits: 0, unit: 's', note: failed.length ? `failing seeds: ${failed.join(', ')}` : '' },
  ], { seed: `${seed} (replay: --seed ${seed} --rounds 1)` })
  if (passed !== rounds) process.exitCode = 1
})
