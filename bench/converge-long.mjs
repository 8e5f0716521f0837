/**
 * Issue 3 benchmark: the randomized convergence harness (test/crdt/converge.ts: five peers editing through
 * the real path with partitions, reordering and duplicated delivery) run for many seeds — the long run
 * that CI's fixed budget leaves out. The harness is TypeScript, so it runs through vitest exactly as CI
 * runs it (`vitest run test/crdt/converge.test.ts` with CTXSYNC_CONVERGE_SEEDS / CTXSYNC_CONVERGE_BASE),
 * split into chunks of seeds (each vitest test has a 600 s timeout) that run `--jobs` at a time.
 *
 * Prints pass/fail, the failing seeds (each chunk's vitest output is kept on failure), the canonical
 * fallbacks the harness counted, and the time. The harness stops a mode at its first failing seed, so the
 * rest of a failed chunk is run again; a failure that names no seed (the fallback check after the loop)
 * is bisected down to the seed.
 *
 *   node bench/converge-long.mjs [--quick] [--seeds N] [--base N] [--chunk N] [--jobs N]
 */
import os from 'node:os'
import { QUICK, arg, report, run, vitestRun } from './lib.mjs'

async function chunk(base, seeds) {
  const { code, out, ms } = await vitestRun('test/crdt/converge.test.ts', { CTXSYNC_CONVERGE_SEEDS: String(seeds), CTXSYNC_CONVERGE_BASE: String(base) })
  const hits = [...out.matchAll(/seed (\d+) \(ownership=(\w+)\)/g)]
  const failed = [...new Set(hits.map((m) => `${m[1]} (ownership=${m[2]})`))]
  const firstFailing = hits.length ? Math.min(...hits.map((m) => Number(m[1]))) : null
  const fallbacks = [...out.matchAll(/canonical fallbacks: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
  const tests = /Tests\s+(\d+ (?:failed|passed).*)/.exec(out)?.[1]?.trim() ?? '?'
  return { base, seeds, code, ms, failed, firstFailing, fallbacks, tests, out }
}

run(async () => {
  const seeds = Number(arg('seeds', QUICK ? 2 : 1000))
  const base = Number(arg('base', 1000))
  const size = Number(arg('chunk', QUICK ? seeds : 100))
  const jobs = Number(arg('jobs', Math.max(1, Math.min(2, os.cpus().length))))
  const chunks = []
  for (let s = base; s < base + seeds; s += size) chunks.push([s, Math.min(size, base + seeds - s)])
  console.log(`converge-long: seeds ${base}..${base + seeds - 1} (both modes: owners and free-for-all), ${chunks.length} chunk(s) of ≤ ${size}, ${jobs} at a time`)

  const t0 = performance.now()
  const results = []
  let next = 0
  await Promise.all(Array.from({ length: Math.min(jobs, chunks.length) }, async () => {
    while (next < chunks.length) {
      const [b, n, rerun] = chunks[next++]
      const r = await chunk(b, n)
      r.rerun = !!rerun
      results.push(r)
      const ok = r.code === 0
      console.log(`  seeds ${b}..${b + n - 1}: ${ok ? 'pass' : `FAIL (exit ${r.code})`}, ${(r.ms / 1000).toFixed(1)} s, tests: ${r.tests}${r.failed.length ? `, failing: ${r.failed.join(', ')}` : ''}`)
      if (!ok) console.log(r.out.split('\n').filter((l) => l.trim()).slice(-25).map((l) => `    | ${l}`).join('\n'))
      // The harness stops a mode at its first failing seed: run the rest of the chunk too, so that every
      // seed is tried (the other mode's seeds run again; their figures are not double counted below).
      if (!ok && r.firstFailing !== null && r.firstFailing < b + n - 1) {
        const rest = b + n - 1 - r.firstFailing
        chunks.push([r.firstFailing + 1, rest, true])
        console.log(`  (running seeds ${r.firstFailing + 1}..${b + n - 1} again to try the ones after ${r.firstFailing})`)
      } else if (!ok && r.firstFailing === null && r.fallbacks > 0) {
        // A check after the loop failed (canonical fallbacks): it names no seed, so bisect the chunk.
        if (n > 1) {
          const h = Math.ceil(n / 2)
          chunks.push([b, h, true], [b + h, n - h, true])
          console.log(`  (no seed named: bisecting into ${b}..${b + h - 1} and ${b + h}..${b + n - 1})`)
        } else r.failed.push(`${b} (canonical fallbacks)`)
      }
    }
  }))
  const wall = (performance.now() - t0) / 1000
  const bad = results.filter((r) => r.code !== 0)
  const failing = [...new Set(bad.flatMap((r) => r.failed))]
  const planned = results.filter((r) => !r.rerun)
  report(`randomized convergence, ${seeds} seeds × 2 modes`, [
    { figure: 'failing seeds', value: failing.length, digits: 0, target: { op: '<=', value: 0 }, note: `of ${seeds} seeds × 2 modes; ${bad.length} of ${results.length} vitest runs failed` },
    { figure: 'canonical fallbacks (complete states)', value: planned.reduce((n, r) => n + r.fallbacks, 0), digits: 0, target: { op: '<=', value: 0 } },
    { figure: 'wall time', value: wall, unit: 's', note: `${(wall / seeds).toFixed(2)} s per seed (both modes), ${jobs} job(s)` },
  ], {
    result: bad.length ? `FAIL — failing seeds: ${failing.length ? failing.join(', ') : 'see the chunk output above'} (rerun one: CTXSYNC_CONVERGE_SEEDS=1 CTXSYNC_CONVERGE_BASE=<seed> npx vitest run test/crdt/converge.test.ts)` : 'PASS: every seed converged',
  })
  if (bad.length) process.exitCode = 1
})
