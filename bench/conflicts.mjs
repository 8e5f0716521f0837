/**
 * The conflict schedule generator at scale (issue 13 item 6): runs `test/crdt/conflicts-gen.test.ts` with many
 * schedules and prints what was tried and what failed, by kind, with the failing seeds. The generator lives
 * with the tests (TypeScript, run by vitest), so this script runs vitest rather than the built code.
 *
 *   node bench/conflicts.mjs [--schedules N] [--seed S] [--quick]      (default 100,000; --quick 2,000)
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUICK, arg } from './lib.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const schedules = Number(arg('schedules') ?? (QUICK ? 2000 : 100_000))
const seed = Number(arg('seed') ?? 1)
const t0 = performance.now()
const r = spawnSync('npx', ['vitest', 'run', 'test/crdt/conflicts-gen.test.ts', '-t', 'seeded schedules'], {
  cwd: root,
  env: { ...process.env, CTXSYNC_CONFLICT_SCHEDULES: String(schedules), CTXSYNC_CONFLICT_SEED: String(seed) },
  encoding: 'utf8',
  maxBuffer: 64 << 20,
})
const out = `${r.stdout}\n${r.stderr}`
const line = out.split('\n').find((l) => l.includes('conflict schedules (CTXSYNC_CONFLICT_SEED='))
if (!line) {
  process.stdout.write(out)
  process.exit(1)
}
const tried = JSON.parse(line.match(/tried (\{.*?\});/)[1])
const failed = JSON.parse(line.match(/failed (\{.*\})/)[1])
const secs = (performance.now() - t0) / 1000
console.log(`conflict schedules: ${tried.schedules} from seed ${seed}, ${secs.toFixed(0)} s (${((secs * 1000) / tried.schedules).toFixed(1)} ms each, vitest start included)`)
console.log(`writes ${tried.writes}, resolves ${tried.resolves}, conflicts listed at the end ${tried.conflicts}`)
const kinds = ['diverged', 'lists-differ', 'winner', 'listed']
console.log('failure kind'.padEnd(16), 'failed'.padStart(8), '  seeds')
for (const k of kinds) console.log(k.padEnd(16), String(failed[k]?.length ?? 0).padStart(8), ' ', (failed[k] ?? []).slice(0, 20).join(','))
const n = Object.values(failed).reduce((a, b) => a + b.length, 0)
console.log(`kept ${tried.schedules - n} of ${tried.schedules}`)
process.exit(n ? 1 : 0)
