/**
 * Issue 13 benchmark: the git schedule generator (test/space/gitschedule.ts: a live space working with plain
 * git — commits, pushes, pulls by merge, rebase and fast-forward with autostash, stash+pull+pop, branch
 * switches with a save at once — a live peer's updates arriving at random moments, also while git works, and
 * a plain-git teammate committing) run for many seeds, the run CI's three seeds leave out. The generator is
 * TypeScript, so it runs through vitest as CI runs it, in chunks of seeds `--jobs` at a time.
 *
 * Prints each chunk's result, the failing seeds with what failed (lost values, doubled items, records
 * nobody made) and the time.
 *
 *   node bench/git-schedules.mjs [--quick] [--seeds N] [--base N] [--steps N] [--chunk N] [--jobs N]
 */
import { QUICK, arg, report, run, vitestRun } from './lib.mjs'

async function chunk(base, seeds, steps) {
  const r = await vitestRun('test/space/gitschedule.test.ts', { CTXSYNC_GIT_SCHEDULES: String(seeds), CTXSYNC_GIT_SEED: String(base), CTXSYNC_GIT_STEPS: String(steps) })
  const failed = [...new Set([...r.out.matchAll(/^(?:\s*→ )?seed (\d+): (.*)$/gm)].map((m) => `${m[1]}: ${m[2].slice(0, 160)}`))]
  return { base, seeds, ...r, failed }
}

run(async () => {
  const seeds = Number(arg('seeds', QUICK ? 3 : 200))
  const base = Number(arg('base', 1000))
  const steps = Number(arg('steps', 24))
  const size = Number(arg('chunk', QUICK ? seeds : 25))
  const jobs = Number(arg('jobs', 2))
  const chunks = []
  for (let s = base; s < base + seeds; s += size) chunks.push([s, Math.min(size, base + seeds - s)])
  console.log(`git-schedules: seeds ${base}..${base + seeds - 1}, ${steps} steps each, ${chunks.length} chunk(s) of ≤ ${size}, ${jobs} at a time`)
  const t0 = performance.now()
  const results = []
  let next = 0
  await Promise.all(Array.from({ length: Math.min(jobs, chunks.length) }, async () => {
    while (next < chunks.length) {
      const [b, n] = chunks[next++]
      const r = await chunk(b, n, steps)
      results.push(r)
      console.log(`  seeds ${b}..${b + n - 1}: ${r.code === 0 ? 'pass' : `FAIL (exit ${r.code})`}, ${(r.ms / 1000).toFixed(1)} s`)
      for (const f of r.failed) console.log(`    seed ${f}`)
      if (r.code !== 0 && !r.failed.length) console.log(r.out.split('\n').filter((l) => l.trim()).slice(-20).map((l) => `    | ${l}`).join('\n'))
    }
  }))
  const wall = (performance.now() - t0) / 1000
  const failing = results.flatMap((r) => r.failed)
  const bad = results.filter((r) => r.code !== 0)
  report(`git schedules beside a live context, ${seeds} seeds × ${steps} steps`, [
    { figure: 'failing seeds', value: failing.length, digits: 0, target: { op: '<=', value: 0 }, note: `of ${seeds}; ${bad.length} of ${results.length} vitest runs failed` },
    { figure: 'wall time', value: wall, unit: 's', note: `${(wall / seeds).toFixed(2)} s per schedule, ${jobs} job(s)` },
  ], {
    result: bad.length ? `FAIL (rerun one: CTXSYNC_GIT_SCHEDULES=1 CTXSYNC_GIT_SEED=<seed> CTXSYNC_GIT_STEPS=${steps} CTXSYNC_GIT_TRACE=1 npx vitest run test/space/gitschedule.test.ts)` : 'PASS: every schedule kept every value, once, with no record',
  })
  if (bad.length) process.exitCode = 1
})
