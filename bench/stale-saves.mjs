/**
 * The stale-save generator at scale (issue 13 item 3): runs `test/crdt/stale-save.test.ts`'s generator with
 * many cases — a peer's change lands between A's "read" and A's save of its old buffer — and prints the
 * outcomes (merged line-wise, same-value conflicts, overlapping edits, known limits) and failures by kind.
 * The generator lives with the tests (TypeScript, run by vitest), so this runs vitest, like `edits.mjs`.
 *
 *   node bench/stale-saves.mjs [--cases N] [--seed S] [--quick]      (default 100,000 cases; --quick 1,000)
 *
 * Failures' chains are written under a temp directory (CTXSYNC_STALE_DUMP), replayable as regression files
 * (test/crdt/regressions/stale-*.json); the seed is printed.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUICK, arg } from './lib.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cases = Number(arg('cases') ?? (QUICK ? 1000 : 100_000))
const seed = Number(arg('seed') ?? Date.now() % 1_000_000)
const dump = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-bench-stale-'))
const t0 = performance.now()
const r = spawnSync('npx', ['vitest', 'run', 'test/crdt/stale-save.test.ts', '-t', 'seeded stale saves'], {
  cwd: root,
  env: { ...process.env, CTXSYNC_STALE_CASES: String(cases), CTXSYNC_STALE_SEED: String(seed), CTXSYNC_STALE_DUMP: dump },
  encoding: 'utf8',
  maxBuffer: 64 << 20,
})
const out = `${r.stdout}\n${r.stderr}`
const line = out.split('\n').find((l) => l.includes('stale saves (CTXSYNC_STALE_SEED='))
if (!line) {
  process.stdout.write(out)
  process.exit(1)
}
const outcomes = JSON.parse(line.match(/outcomes (\{.*?\});/)[1])
const failed = JSON.parse(line.match(/failed (\{.*?\});/)[1])
console.log(`stale saves: ${cases} cases, seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
for (const [k, v] of Object.entries(outcomes)) console.log(`  ${k.padEnd(12)} ${String(v).padStart(8)}`)
const nFailed = Object.values(failed).reduce((a, b) => a + b, 0)
for (const [k, v] of Object.entries(failed)) console.log(`  FAILED ${k}: ${v}`)
console.log(nFailed ? `failures: ${nFailed} (chains in ${dump})` : 'no failures')
if (!nFailed) fs.rmSync(dump, { recursive: true, force: true })
